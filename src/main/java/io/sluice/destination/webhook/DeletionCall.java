package io.sluice.destination.webhook;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.util.List;

/**
 * The deletion call of a webhook destination with a {@code deletionUrl} (docs/privacy.md): one POST per privacy
 * deletion request, {@code {"type":"delete","requestId":"…","userIds":[…]}}, with the destination's headers and
 * signature and {@code Idempotency-Key: sluice-privacy-<request id>}, so a retried call is recognisable. Any 2xx
 * answer is done; anything else (or no answer) fails the call, and the request retries it.
 */
final class DeletionCall {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final URI url;
    private final WebhookSettings settings;
    private final WebhookSignature signature;
    private final Clock clock;
    private final HttpClient http;

    DeletionCall(URI url, WebhookSettings settings, Clock clock) {
        this.url = url;
        this.settings = settings;
        this.signature = settings.signed() ? new WebhookSignature(settings.secret()) : null;
        this.clock = clock;
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(settings.timeout())
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
    }

    /** @return "HTTP <status>" on a 2xx answer; throws otherwise */
    String send(long requestId, List<String> ids) throws IOException, InterruptedException {
        ObjectNode body = JSON.createObjectNode().put("type", "delete").put("requestId", Long.toString(requestId));
        ArrayNode userIds = body.putArray("userIds");
        ids.forEach(userIds::add);
        byte[] bytes = JSON.writeValueAsBytes(body);
        HttpRequest.Builder request = HttpRequest.newBuilder(url)
                .timeout(settings.timeout())
                .header("Content-Type", "application/json")
                .header("Idempotency-Key", "sluice-privacy-" + requestId)
                .POST(HttpRequest.BodyPublishers.ofByteArray(bytes));
        settings.headers().forEach(request::header);
        if (signature != null) {
            long timestamp = clock.instant().getEpochSecond();
            request.header(WebhookSignature.TIMESTAMP_HEADER, Long.toString(timestamp))
                    .header(WebhookSignature.SIGNATURE_HEADER, signature.sign(timestamp, bytes));
        }
        HttpResponse<Void> response = http.send(request.build(), HttpResponse.BodyHandlers.discarding());
        if (response.statusCode() / 100 != 2) {
            throw new IOException(
                    "the deletion call to " + url.getHost() + " was answered HTTP " + response.statusCode());
        }
        return "HTTP " + response.statusCode();
    }
}
