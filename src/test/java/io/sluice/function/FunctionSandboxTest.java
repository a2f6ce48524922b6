package io.sluice.function;

import static io.sluice.function.FunctionFixtures.config;
import static io.sluice.function.FunctionFixtures.event;
import static io.sluice.function.FunctionFixtures.write;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every way out of the sandbox we know of fails as a FunctionFailure, with no effect on the host. */
class FunctionSandboxTest {
    @TempDir
    Path dir;

    @Test
    void hostAccessAttemptsFailSafely() throws Exception {
        Path marker = dir.resolve("marker");
        Path secret = dir.resolve("secret.js");
        write(secret, "globalThis.stolen = 'contents of a host file'; 'secret'");
        try (ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            String url = "http://127.0.0.1:" + listener.getLocalPort() + "/steal";
            Map<String, String> attempts = new LinkedHashMap<>();
            attempts.put("java-type", "Java.type('java.lang.System').exit(3)");
            attempts.put("java-type-via-function", "(new Function('return this'))().Java.type('java.lang.Runtime')");
            attempts.put("packages", "Packages.java.lang.System.exit(3)");
            attempts.put("java-package", "java.lang.Runtime.getRuntime().exec(['touch', '" + marker + "'])");
            attempts.put("polyglot-eval", "Polyglot.eval('js', '1')");
            attempts.put("polyglot-eval-file", "Polyglot.evalFile('js', '" + secret + "')");
            attempts.put("polyglot-import", "Polyglot.import('anything')");
            attempts.put("load-file", "load('" + secret + "')");
            attempts.put("load-url", "load('" + url + "')");
            attempts.put("load-with-new-global", "loadWithNewGlobal('" + secret + "')");
            attempts.put("require", "require('fs').writeFileSync('" + marker + "', 'x')");
            attempts.put("require-child-process", "require('child_process').execSync('touch " + marker + "')");
            attempts.put("process-env", "process.env.HOME");
            attempts.put("process-exit", "process.exit(3)");
            // fetch exists, but a sync without fetch.allowHosts may call nothing: the Promise rejects
            attempts.put("fetch", "return fetch('" + url + "').then(r => ({ reached: 'fetched ' + r.status }))");
            attempts.put("xhr", "new XMLHttpRequest().open('GET', '" + url + "')");
            attempts.put("websocket", "new WebSocket('ws://127.0.0.1:" + listener.getLocalPort() + "')");
            attempts.put("read-file", "readFully('" + secret + "')");
            attempts.put("read", "read('" + secret + "')");
            attempts.put("worker-thread", "new Worker('x.js')");
            attempts.put("quit", "quit(3)");
            attempts.put("exit", "exit(3)");
            attempts.put("graal", "Graal.versionGraalVM.length");
            attempts.put("eval-java", "eval('Java.type(\"java.io.File\")')");
            attempts.put(
                    "dynamic-import",
                    "import('" + secret
                            + "').then(() => globalThis.imported = 'yes', e => globalThis.importError = String(e));"
                            + " throw new Error('import started')");
            attempts.put(
                    "after-import",
                    "throw new Error('imported=' + globalThis.imported + ' stolen=' + globalThis.stolen + ' ' + globalThis.importError)");
            attempts.put(
                    "print",
                    "console.log('SANDBOX-PRINT'); console.error('SANDBOX-PRINT'); print('SANDBOX-PRINT'); throw new TypeError('printed')");
            attempts.put("atomics-wait", "Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0)");
            String cases = attempts.entrySet().stream()
                    .map(a -> "    case '" + a.getKey() + "': " + a.getValue() + "; break;")
                    .collect(Collectors.joining("\n"));
            write(dir.resolve("escape.js"), """
                    function transform(event) {
                      switch (event.messageId) {
                    %s
                      }
                      return { reached: 'end of ' + event.messageId };
                    }
                    """.formatted(cases));

            PrintStream realOut = System.out;
            ByteArrayOutputStream captured = new ByteArrayOutputStream();
            List<FunctionFailure> failures;
            try (Functions functions =
                    new Functions(config(dir, """
                      - id: a
                        source: web
                        destination: warehouse
                        function: escape.js
                    """, "  timeout: 500ms"), new SimpleMeterRegistry(), Clock.systemUTC())) {
                functions.start();
                System.setOut(new PrintStream(captured, true));
                List<ObjectNode> events =
                        attempts.keySet().stream().map(FunctionFixtures::event).toList();
                FunctionResult result = functions.apply("a", events);
                assertThat(result.output()).as("no attempt may complete").isEmpty();
                failures = result.failures();
            } finally {
                System.setOut(realOut);
            }
            Map<String, String> errors = failures.stream()
                    .collect(Collectors.toMap(
                            f -> f.event().path("messageId").asText(),
                            FunctionFailure::error,
                            (a, b) -> a,
                            LinkedHashMap::new));
            errors.forEach((attempt, error) -> System.err.println(attempt + " -> " + error));
            assertThat(errors.keySet()).containsExactlyElementsOf(attempts.keySet());
            errors.forEach(
                    (attempt, error) -> assertThat(error)
                            .as(attempt)
                            .matches(
                                    "(ReferenceError|TypeError|Error: import started|Error: imported=undefined stolen=undefined Error: Operation is not allowed).*"));

            // no host effect: no file created, no connection made, nothing printed, the JVM still here
            assertThat(Files.exists(marker)).isFalse();
            listener.setSoTimeout(200);
            boolean connected;
            try (var ignored = listener.accept()) {
                connected = true;
            } catch (SocketTimeoutException e) {
                connected = false;
            }
            assertThat(connected).as("a connection reached the listener").isFalse();
            assertThat(captured.toString()).doesNotContain("SANDBOX-PRINT");
        }
    }

    @Test
    void hostGlobalsAreGoneAndOnlyPlainJavaScriptRemains() {
        TestRun run = FunctionTrial.test("""
                function transform(event) {
                  const names = ['Java', 'Packages', 'java', 'javax', 'Polyglot', 'load', 'loadWithNewGlobal', 'require',
                                 'process', 'Graal', 'quit', 'exit', 'read', 'readFully', 'XMLHttpRequest'];
                  const seen = {};
                  for (const name of names) seen[name] = typeof globalThis[name];
                  console.log('console still works');
                  print('so does print');
                  return { seen, json: typeof JSON.parse, math: Math.max(1, 2) };
                }
                """, event("m-1"), java.time.Duration.ofSeconds(1));
        assertThat(run.error()).isNull();
        ObjectNode out = run.output().getFirst();
        out.path("seen")
                .properties()
                .forEach(e -> assertThat(e.getValue().asText()).as(e.getKey()).isEqualTo("undefined"));
        assertThat(out.path("seen").size()).isEqualTo(15);
        assertThat(out.path("json").asText()).isEqualTo("function");
        assertThat(run.logs()).containsExactly("console still works", "so does print");
    }
}
