package io.sluice.collector;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.http.Context;
import io.sluice.collector.EventEnricher.RequestFacts;
import io.sluice.collector.EventPublisher.OutgoingEvent;
import io.sluice.config.SluiceConfig.CollectorSettings;
import io.sluice.config.SluiceConfig.SourceSettings;
import io.sluice.contract.Contract;
import io.sluice.contract.Contracts;
import io.sluice.contract.Violation;
import io.sluice.contract.ViolationPublisher;
import io.sluice.http.ThrottledLog;
import io.sluice.suppression.Suppressions;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One tracking request, start to finish: reserve memory, read and parse the body, authenticate, validate every
 * event (all-or-nothing), enrich, check the source's contract, publish, and answer 200 only once Kafka has
 * acknowledged all of it.
 */
final class IngestHandler {
    private static final Logger log = LoggerFactory.getLogger(IngestHandler.class);
    private static final byte[] OK = "{\"success\":true}".getBytes(StandardCharsets.UTF_8);

    private final ObjectMapper mapper;
    private final Sources sources;
    private final Contracts contracts;
    private final ViolationPublisher violationPublisher;
    private final CollectorSettings settings;
    private final EventPublisher publisher;
    private final CollectorMetrics metrics;
    private final Clock clock;
    private final InFlightLimiter limiter;
    private final BodyReader bodyReader;
    private final RequestParser parser;
    private final EventRecords records;
    private final ClientAddress clientAddress;
    /** Enrichment and the merged batch context make a request larger as stored; this bounds the amplification. */
    static final int STORED_REQUEST_FACTOR = 4;

    private final ThrottledLog unexpected = new ThrottledLog(log, "Unexpected failure handling a tracking request");
    private final RejectionPublisher rejections; // null: refused requests are only counted

    IngestHandler(
            ObjectMapper mapper,
            Sources sources,
            Contracts contracts,
            CollectorSettings settings,
            EventPublisher publisher,
            ViolationPublisher violationPublisher,
            CollectorMetrics metrics,
            Clock clock) {
        this(mapper, sources, contracts, settings, publisher, violationPublisher, null, metrics, clock);
    }

    IngestHandler(
            ObjectMapper mapper,
            Sources sources,
            Contracts contracts,
            CollectorSettings settings,
            EventPublisher publisher,
            ViolationPublisher violationPublisher,
            RejectionPublisher rejections,
            CollectorMetrics metrics,
            Clock clock) {
        this(
                mapper,
                sources,
                contracts,
                settings,
                publisher,
                violationPublisher,
                rejections,
                metrics,
                clock,
                Suppressions.NONE);
    }

    IngestHandler(
            ObjectMapper mapper,
            Sources sources,
            Contracts contracts,
            CollectorSettings settings,
            EventPublisher publisher,
            ViolationPublisher violationPublisher,
            RejectionPublisher rejections,
            CollectorMetrics metrics,
            Clock clock,
            Suppressions suppressions) {
        this.rejections = rejections;
        this.mapper = mapper;
        this.sources = sources;
        this.contracts = contracts;
        this.violationPublisher = violationPublisher;
        this.settings = settings;
        this.publisher = publisher;
        this.metrics = metrics;
        this.clock = clock;
        this.limiter = new InFlightLimiter(
                inFlightBudget(settings.maxInFlightBytes(), Runtime.getRuntime().maxMemory()), 50);
        this.bodyReader = new BodyReader(settings.maxRequestSize());
        this.parser = new RequestParser(mapper, settings.maxBatchEvents());
        this.records = new EventRecords(
                mapper,
                new EventValidator(settings.maxEventSize()),
                STORED_REQUEST_FACTOR * settings.maxRequestSize(),
                suppressions);
        this.clientAddress = new ClientAddress(settings.trustedProxies());
    }

    /**
     * The in-flight budget: {@code collector.maxInFlightBytes}, but at most a quarter of the heap. What a request
     * holds is reserved (body, room for it, records as stored), but parsing, Jetty's buffers and the producer's
     * batches come on top; a budget the heap cannot hold would turn overload into an OutOfMemoryError instead of
     * 429 (a 512 MiB container has a heap of about 360 MB with the image's MaxRAMPercentage=70).
     */
    static long inFlightBudget(long configured, long maxHeap) {
        long cap = maxHeap / 4;
        if (configured <= cap) return configured;
        log.warn(
                "collector.maxInFlightBytes ({} MB) is more than a quarter of the heap ({} MB); using {} MB",
                configured >> 20,
                maxHeap >> 20,
                cap >> 20);
        return cap;
    }

    void handle(Context ctx, Endpoint endpoint) {
        long started = System.nanoTime();
        String sourceId = "unknown";
        int eventCount = 0;
        long bytes = 0;
        byte[] body = null;
        try (InFlightLimiter.Reservation reservation = limiter.reserve()) {
            SourceSettings source = authenticateHeader(ctx.header("Authorization"));
            // Known before the body is read: a body that then fails to parse is still this source's refusal.
            if (source != null) sourceId = source.id();
            String encoding = ctx.header("Content-Encoding");
            long declared = ctx.req().getContentLengthLong();
            boolean compressed = encoding != null && !encoding.isBlank() && !encoding.equalsIgnoreCase("identity");
            if (!compressed && declared > settings.maxRequestSize()) {
                throw Rejection.tooLarge(
                        "request_too_large", "the request body exceeds " + settings.maxRequestSize() + " bytes", -1);
            }
            // The budget grows with the bytes that actually arrive, never with what a client declares.
            body = bodyReader.read(ctx.bodyInputStream(), encoding, compressed ? -1 : declared, reservation);
            bytes = body.length;
            ParsedRequest request = endpoint.isBatch() ? parser.parseBatch(body) : parser.parseSingle(body);
            if (source == null) source = authenticateBody(request.writeKey());
            sourceId = source.id();
            eventCount = request.events().size();

            Contract contract = contracts.forSource(sourceId);
            List<Violation> violations = contract == null ? null : new ArrayList<>();
            String clientIp = clientAddress.resolve(ctx.req().getRemoteAddr(), ctx.header("X-Forwarded-For"));
            List<OutgoingEvent> outgoing =
                    prepare(request, endpoint, source, clientIp, contract, violations, reservation);
            // Events a contract blocked are answered 200 like the rest (as Segment does), so SDKs do not retry them.
            if (!outgoing.isEmpty()) awaitAcknowledgement(publisher.publish(outgoing));
            if (contract != null) violationPublisher.publish(sourceId, violations, eventCount - outgoing.size());
            metrics.request(sourceId, "accepted", eventCount, System.nanoTime() - started, bytes);
            respond(ctx, 200, OK);
        } catch (Rejection rejection) {
            reject(ctx, rejection, sourceId, eventCount, started, bytes);
            if (rejections != null) {
                rejections.publish(
                        sourceId,
                        rejection,
                        body,
                        clientAddress.resolve(ctx.req().getRemoteAddr(), ctx.header("X-Forwarded-For")),
                        clock.instant());
            }
        } catch (RuntimeException | StackOverflowError bug) {
            // No input may cause a 500; if a bug does, the client still gets JSON and the log gets one line per minute.
            unexpected.log(bug);
            reject(ctx, Rejection.internal(), sourceId, eventCount, started, bytes);
        }
    }

    /**
     * Validates, enriches and serialises a request's events; with a contract, also checks each event against it,
     * collecting {@code violations} and leaving out the events it blocks.
     */
    List<OutgoingEvent> prepare(
            ParsedRequest request,
            Endpoint endpoint,
            SourceSettings source,
            String clientIp,
            Contract contract,
            List<Violation> violations) {
        return prepare(request, endpoint, source, clientIp, contract, violations, null);
    }

    /** As above; the serialised events are added to {@code reservation} (when given) as they are produced. */
    List<OutgoingEvent> prepare(
            ParsedRequest request,
            Endpoint endpoint,
            SourceSettings source,
            String clientIp,
            Contract contract,
            List<Violation> violations,
            InFlightLimiter.Reservation reservation) {
        RequestFacts facts =
                new RequestFacts(source.id(), clock.instant(), request.sentAt(), request.context(), clientIp);
        return records.prepare(request, endpoint.type(), facts, contract, violations, reservation);
    }

    /**
     * Waits for Kafka. With an ack timeout of 2 s or more the producer's {@code delivery.timeout.ms} equals it
     * ({@link EventPublisher#producerProperties}), so the producer fails the records by itself in time and the wait
     * needs no timer: a timed wait schedules and cancels a timer task per request on a virtual thread, which cost
     * up to a fifth of the HTTP threads' CPU for single events (docs/performance.md).
     */
    private void awaitAcknowledgement(CompletableFuture<Void> acknowledged) {
        long timeoutMillis = settings.ackTimeout().toMillis();
        try {
            if (timeoutMillis >= EventPublisher.MIN_DELIVERY_TIMEOUT_MS) acknowledged.get();
            else acknowledged.get(timeoutMillis, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw notAcknowledged(timeoutMillis);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof org.apache.kafka.common.errors.TimeoutException) {
                throw notAcknowledged(timeoutMillis);
            }
            log.warn("Kafka refused events: {}", e.getCause().toString());
            throw Rejection.unavailable(
                    "Kafka did not store the events (" + e.getCause().getClass().getSimpleName() + "); retry later");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw Rejection.unavailable("the collector is shutting down; retry later");
        }
    }

    private static Rejection notAcknowledged(long timeoutMillis) {
        return Rejection.unavailable(
                "Kafka did not acknowledge the events within " + timeoutMillis + " ms; retry later");
    }

    /** HTTP Basic with the write key as username and an empty password; null when there is no Basic header. */
    private SourceSettings authenticateHeader(String authorization) {
        if (authorization == null || !authorization.regionMatches(true, 0, "Basic ", 0, 6)) return null;
        String decoded;
        try {
            decoded = new String(
                    Base64.getDecoder().decode(authorization.substring(6).trim()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw Rejection.unauthorized("invalid_write_key", "the Authorization header is not valid Basic auth");
        }
        int colon = decoded.indexOf(':');
        SourceSettings source = sources.authenticate(colon >= 0 ? decoded.substring(0, colon) : decoded);
        if (source == null) throw Rejection.unauthorized("invalid_write_key", "unknown write key");
        return source;
    }

    private SourceSettings authenticateBody(String writeKey) {
        if (writeKey == null || writeKey.isEmpty()) {
            throw Rejection.unauthorized(
                    "missing_write_key", "a write key is required: HTTP Basic username or 'writeKey' in the body");
        }
        SourceSettings source = sources.authenticate(writeKey);
        if (source == null) throw Rejection.unauthorized("invalid_write_key", "unknown write key");
        return source;
    }

    private void reject(Context ctx, Rejection r, String sourceId, int eventCount, long started, long bytes) {
        String outcome = switch (r.status()) {
            case 401 -> "unauthorized";
            case 408 -> "timed_out";
            case 429 -> "overloaded";
            case 500 -> "failed";
            case 503 -> "unavailable";
            default -> "rejected";
        };
        // A refusal before the events were counted (unparseable body) still refused at least one: counted as one,
        // like sluice_collector_rejected_events, so the source's rejected count shows it.
        metrics.request(sourceId, outcome, Math.max(1, eventCount), System.nanoTime() - started, bytes);
        metrics.rejected(r.rule(), eventCount);
        ObjectNode body = mapper.createObjectNode()
                .put("success", false)
                .put("error", r.getMessage())
                .put("rule", r.rule());
        if (r.index() >= 0) body.put("index", r.index());
        if (r.retryAfterSeconds() > 0) ctx.header("Retry-After", Integer.toString(r.retryAfterSeconds()));
        if (r.status() == 408) ctx.header("Connection", "close"); // the rest of a slow body is not waited for
        respond(ctx, r.status(), body.toString().getBytes(StandardCharsets.UTF_8));
    }

    private static boolean bodyFinished(Context ctx) {
        try {
            return ctx.req().getInputStream().isFinished();
        } catch (java.io.IOException | IllegalStateException e) {
            return false;
        }
    }

    /**
     * Writes the JSON answer straight to the servlet response with its length. Javalin's {@code ctx.result} wraps
     * the bytes in a stream and copies them through a new 8 KB buffer per request, which was 8 % of the CPU and 13 %
     * of the allocations of a /v1/track request (docs/performance.md).
     */
    private static void respond(Context ctx, int status, byte[] json) {
        var response = ctx.res();
        response.setStatus(status);
        // A refusal that left the body unread: Jetty closes the connection after this response rather than read the
        // rest, and writing the whole answer here commits it before Jetty could say so, so it is said here (a client
        // that reused the connection would otherwise send its next request into a closed socket).
        if (status != 200 && !bodyFinished(ctx)) response.setHeader("Connection", "close");
        response.setContentType("application/json");
        response.setContentLength(json.length);
        try {
            response.getOutputStream().write(json);
        } catch (java.io.IOException e) {
            // The client went away; there is nobody to answer, and the outcome is already counted.
        }
    }
}
