{{- define "sluice.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "sluice.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Selector labels of one role: (dict "root" $ "role" "collector") */}}
{{- define "sluice.selector" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .role }}
{{- end -}}

{{- define "sluice.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "sluice.secretName" -}}
{{ .Values.existingSecret | default (printf "%s-secrets" (include "sluice.fullname" .)) }}
{{- end -}}

{{- define "sluice.serviceAccountName" -}}
{{ .Values.serviceAccount.name | default (include "sluice.fullname" .) }}
{{- end -}}

{{/*
The pod spec shared by every role: (dict "root" $ "role" "worker" "settings" .Values.worker "args" (list "worker")).
*/}}
{{- define "sluice.podTemplate" -}}
{{- $root := .root -}}
metadata:
  labels:
    {{- include "sluice.selector" . | nindent 4 }}
    {{- with $root.Values.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    checksum/config: {{ include (print $root.Template.BasePath "/configmap.yaml") $root | sha256sum }}
    {{- with $root.Values.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "sluice.serviceAccountName" $root }}
  automountServiceAccountToken: false
  terminationGracePeriodSeconds: {{ $root.Values.shutdown.terminationGracePeriodSeconds }}
  securityContext:
    {{- toYaml $root.Values.podSecurityContext | nindent 4 }}
  {{- with $root.Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  containers:
    - name: {{ .role }}
      image: {{ include "sluice.image" $root }}
      imagePullPolicy: {{ $root.Values.image.pullPolicy }}
      args:
        {{- range .args }}
        - {{ . | quote }}
        {{- end }}
        - --config
        - /etc/sluice/sluice.yaml
      envFrom:
        - secretRef:
            name: {{ include "sluice.secretName" $root }}
      {{- with $root.Values.javaOptions }}
      env:
        - name: JAVA_TOOL_OPTIONS
          value: {{ . | quote }}
      {{- end }}
      ports:
        {{- if eq .role "collector" }}
        - name: http
          containerPort: {{ $root.Values.ports.collector }}
          protocol: TCP
        {{- end }}
        - name: admin
          containerPort: {{ $root.Values.ports.admin }}
          protocol: TCP
      startupProbe:
        httpGet: {path: /health, port: admin}
        periodSeconds: 2
        failureThreshold: 60
      livenessProbe:
        httpGet: {path: /health, port: admin}
        periodSeconds: 10
        timeoutSeconds: 3
        failureThreshold: 3
      readinessProbe:
        httpGet: {path: /ready, port: admin}
        periodSeconds: 5
        timeoutSeconds: 3
        failureThreshold: 2
      lifecycle:
        preStop:
          sleep:
            seconds: {{ $root.Values.shutdown.preStopSeconds }}
      resources:
        {{- toYaml .settings.resources | nindent 8 }}
      securityContext:
        {{- toYaml $root.Values.securityContext | nindent 8 }}
      volumeMounts:
        - name: config
          mountPath: /etc/sluice
          readOnly: true
        - name: tmp
          mountPath: /tmp
        {{- include "sluice.tlsFilesMount" $root | nindent 8 }}
  volumes:
    - name: config
      configMap:
        name: {{ include "sluice.fullname" $root }}-config
    - name: tmp
      emptyDir:
        sizeLimit: {{ $root.Values.tmpVolume.sizeLimit }}
    {{- include "sluice.tlsFilesVolume" $root | nindent 4 }}
  {{- with .settings.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .settings.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .settings.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end -}}

{{- define "sluice.tlsFilesMount" -}}
{{- if or .Values.tlsFiles.configMap .Values.tlsFiles.secret }}
- name: tls-files
  mountPath: {{ .Values.tlsFiles.mountPath }}
  readOnly: true
{{- end }}
{{- end }}

{{- define "sluice.tlsFilesVolume" -}}
{{- if and .Values.tlsFiles.configMap .Values.tlsFiles.secret }}
{{- fail "tlsFiles: set configMap or secret, not both" }}
{{- end }}
{{- with .Values.tlsFiles.configMap }}
- name: tls-files
  configMap:
    name: {{ . }}
{{- end }}
{{- with .Values.tlsFiles.secret }}
- name: tls-files
  secret:
    secretName: {{ . }}
{{- end }}
{{- end }}
