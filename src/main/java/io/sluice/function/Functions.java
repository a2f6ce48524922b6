package io.sluice.function;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.config.ConfigException;
import io.sluice.config.SluiceConfig;
import io.sluice.config.SluiceConfig.SyncSettings;
import io.sluice.lifecycle.Service;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.graalvm.polyglot.Engine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Customer functions: each sync may transform its events with a JavaScript {@code transform(event, context)}
 * before delivery (see docs/functions.md). This class is their lifecycle: {@link #start()} compiles every function
 * (a broken one stops startup), then watches function files and swaps in changed versions that compile
 * ({@link SyncFunction} keeps a sync's current version). {@link #apply} runs a sync's function over a batch
 * ({@link BatchApplication}); {@link FunctionTrial} runs a function once for {@code sluice function test}.
 */
public final class Functions implements Service {
    private static final Logger log = LoggerFactory.getLogger(Functions.class);
    private static final Logger console = LoggerFactory.getLogger("io.sluice.function.console");

    private final SluiceConfig config;
    private final MeterRegistry registry;
    private final Clock clock;
    private final Duration timeout;
    /** By sync id; written once by start(). */
    private volatile Map<String, SyncFunction> functions = Map.of();

    private Engine engine;
    private Watchdog watchdog;
    private ScheduledExecutorService reloader;
    private volatile boolean started;
    private boolean closed;

    /** @param clock the process's clock: fetch cache expiry, Retry-After pauses, the functions' states */
    public Functions(SluiceConfig config, MeterRegistry registry, Clock clock) {
        this.config = config;
        this.registry = registry;
        this.clock = clock;
        this.timeout = config.functions().timeout();
    }

    /**
     * Compiles every sync's function.
     *
     * @throws ConfigException naming {@code syncs[i].function} when a function file is missing or does not compile
     */
    @Override
    public synchronized void start() {
        if (started || closed) return;
        List<SyncSettings> syncs = config.syncs();
        Map<String, SyncFunction> built = new LinkedHashMap<>();
        try {
            for (int i = 0; i < syncs.size(); i++) {
                SyncSettings sync = syncs.get(i);
                if (!sync.hasFunction()) continue;
                String key = "syncs[" + i + "].function";
                FunctionCode code = FunctionCode.load(config, sync, key);
                if (engine == null) {
                    engine = Sandbox.engine();
                    watchdog = new Watchdog(timeout);
                }
                FetchMetrics fetchMetrics = new FetchMetrics(registry, sync.id());
                SyncFunction function = new SyncFunction(
                        sync,
                        key,
                        contextJson(
                                sync.id(),
                                sync.destination(),
                                sync.settings() == null ? null : sync.settings().tree()),
                        FunctionMetrics.register(registry, sync.id()),
                        fetchMetrics,
                        sync.hasFetch() ? new FetchClient(sync.id(), sync.fetch(), fetchMetrics, clock) : null,
                        new FunctionHealth(clock));
                Gauge.builder("sluice.function.state", function.health, FunctionHealth::code)
                        .tag("sync", sync.id())
                        .description(
                                "The function's state: 0 healthy, 1 a called service failing, 2 batches waiting for it")
                        .register(registry);
                built.put(sync.id(), function); // closed with the others if anything below fails
                try {
                    function.watch(code);
                    function.pool = newPool(function, code);
                } catch (ScriptFailure e) {
                    throw new ConfigException(key, code.name() + " does not compile: " + e.getMessage());
                } catch (IOException e) {
                    throw new ConfigException(
                            key, "function file " + code.file() + " could not be read: " + e.getMessage());
                }
            }
        } catch (RuntimeException e) {
            functions = built;
            close();
            throw e;
        }
        functions = Map.copyOf(built);
        if (built.values().stream().anyMatch(f -> f.pool.code().file() != null)) {
            long every = config.functions().reloadInterval().toMillis();
            reloader = Executors.newSingleThreadScheduledExecutor(r ->
                    Thread.ofPlatform().daemon().name("sluice-function-reload").unstarted(r));
            reloader.scheduleWithFixedDelay(this::reloadQuietly, every, every, TimeUnit.MILLISECONDS);
        }
        started = true;
        if (!built.isEmpty()) {
            log.info(
                    "Functions started: {} (timeout {} ms, up to {} context(s) per function, reload check every {} ms, JavaScript runtime {})",
                    built.values().stream()
                            .map(f -> f.sync.id() + "=" + f.pool.code().name())
                            .toList(),
                    timeout.toMillis(),
                    config.functions().poolSize(),
                    config.functions().reloadInterval().toMillis(),
                    engine.getImplementationName());
        }
    }

    /**
     * Runs the sync's function over a batch. Events it fails on (exception, unacceptable return value, timeout) are
     * returned as failures and the rest proceed; a sync without a function gets its input back unchanged.
     *
     * @throws IllegalStateException when no context can be started for the function (the batch should be retried)
     * @throws DependencyFailure when a service the function calls is failing: the whole batch should wait and be
     *     retried (its cause's class says how, see {@code delivery.Failures})
     */
    public FunctionResult apply(String syncId, List<ObjectNode> events) {
        SyncFunction function = functions.get(syncId);
        if (function == null) {
            if (!started) throw new IllegalStateException("Functions.apply before start()");
            return new FunctionResult(events, List.of());
        }
        return BatchApplication.apply(function, events, timeout);
    }

    /** The function's state for the console, or null when the sync has no function. */
    public FunctionHealth.State state(String syncId) {
        SyncFunction function = functions.get(syncId);
        return function == null ? null : function.health.state();
    }

    /** Checks function files now (the reload thread does this every {@code functions.reloadInterval}). */
    public synchronized void reload() {
        if (!started || closed) return;
        for (SyncFunction function : functions.values()) {
            FunctionCode fresh = function.changedCode();
            if (fresh == null) continue;
            try {
                function.swap(newPool(function, fresh));
                log.info("Function {} of sync {} reloaded from {}", fresh.name(), function.sync.id(), fresh.file());
            } catch (ScriptFailure e) {
                function.rejectChange();
                log.error(
                        "Function file {} ({}) changed but does not compile; the previous version keeps running: {}",
                        fresh.file(),
                        function.key,
                        e.getMessage());
            }
        }
    }

    private void reloadQuietly() {
        try {
            reload();
        } catch (RuntimeException e) {
            log.error("Function reload check failed", e);
        }
    }

    private ContextPool newPool(SyncFunction function, FunctionCode code) throws ScriptFailure {
        String syncId = function.sync.id();
        Duration evaluation = evaluationTimeout(timeout);
        return new ContextPool(
                code,
                config.functions().poolSize(),
                c -> JsContext.open(
                        engine,
                        c,
                        function.contextJson,
                        consoleFor(syncId),
                        watchdog,
                        evaluation,
                        function.fetch == null ? FetchSession.DISABLED : null));
    }

    private static OutputStream consoleFor(String syncId) {
        if (!console.isDebugEnabled()) return OutputStream.nullOutputStream();
        return new ConsoleSink(line -> console.debug("[sync {}] {}", syncId, line));
    }

    /** Evaluating a source includes parsing it and its top-level code: allow at least 5 s. */
    static Duration evaluationTimeout(Duration timeout) {
        return timeout.compareTo(Duration.ofSeconds(5)) > 0 ? timeout : Duration.ofSeconds(5);
    }

    static String contextJson(String syncId, String destinationId, JsonNode settings) {
        ObjectNode context = Outputs.MAPPER.createObjectNode();
        context.put("syncId", syncId);
        context.put("destinationId", destinationId);
        context.set(
                "settings",
                settings == null || settings.isNull() ? Outputs.MAPPER.createObjectNode() : settings.deepCopy());
        return context.toString();
    }

    /** Stops the reload thread and closes every context; call it after the workers that use {@link #apply} stopped. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        if (reloader != null) {
            reloader.shutdownNow();
            try {
                if (!reloader.awaitTermination(5, TimeUnit.SECONDS))
                    log.warn("The function reload thread did not stop within 5 s");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (SyncFunction function : functions.values()) {
            if (function.pool != null) function.pool.retire();
            if (function.fetch != null) function.fetch.close();
        }
        if (watchdog != null) watchdog.close();
        if (engine != null) {
            try {
                engine.close(true);
            } catch (RuntimeException e) {
                log.warn("Closing the JavaScript engine failed: {}", e.toString());
            }
        }
        if (!functions.isEmpty()) log.info("Functions stopped");
    }
}
