package io.sluice.function;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/** One sync's function meters (tag {@code sync}); names are listed in docs/functions.md. */
record FunctionMetrics(
        Counter invocations,
        Counter drops,
        Counter errors,
        Counter timeouts,
        Timer time,
        Counter reloads,
        Counter rejectedReloads) {

    static FunctionMetrics register(MeterRegistry registry, String syncId) {
        return new FunctionMetrics(
                Counter.builder("sluice.function.invocations")
                        .tag("sync", syncId)
                        .description("Events passed to the sync's function")
                        .register(registry),
                Counter.builder("sluice.function.drops")
                        .tag("sync", syncId)
                        .description("Events the function dropped (returned null or undefined)")
                        .register(registry),
                Counter.builder("sluice.function.errors")
                        .tag("sync", syncId)
                        .description(
                                "Events the function failed on (exception or unacceptable return value); dead-lettered")
                        .register(registry),
                Counter.builder("sluice.function.timeouts")
                        .tag("sync", syncId)
                        .description("Events on which the function ran out of time and was cancelled; dead-lettered")
                        .register(registry),
                Timer.builder("sluice.function.time")
                        .tag("sync", syncId)
                        .description(
                                "Time spent in the function per event, JSON conversion included (what an async transform awaits is in sluice.function.fetch.time)")
                        .register(registry),
                Counter.builder("sluice.function.reloads")
                        .tag("sync", syncId)
                        .tag("outcome", "applied")
                        .description("Changed function files picked up, or rejected because they do not compile")
                        .register(registry),
                Counter.builder("sluice.function.reloads")
                        .tag("sync", syncId)
                        .tag("outcome", "rejected")
                        .description("Changed function files picked up, or rejected because they do not compile")
                        .register(registry));
    }
}
