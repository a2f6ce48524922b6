package io.sluice.failover;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Failover alarms: an ERROR log when one starts, a gauge {@code sluice_db_alarm{alarm}} (1 while active) and a
 * counter {@code sluice_db_alarms_total{alarm}} of how often it started.
 */
public final class Alarms {
    public static final String SPLIT_WRITER = "split_writer";
    public static final String ENDPOINT_NOT_WRITER = "endpoint_not_writer";
    public static final String WRITER_CHANGED = "writer_changed";
    private static final Logger log = LoggerFactory.getLogger(Alarms.class);

    private final MeterRegistry registry;
    private final Map<String, AtomicInteger> active = new ConcurrentHashMap<>();

    Alarms(MeterRegistry registry) {
        this.registry = registry;
        for (String alarm : List.of(SPLIT_WRITER, ENDPOINT_NOT_WRITER, WRITER_CHANGED)) {
            active.put(alarm, registry.gauge("sluice.db.alarm", List.of(Tag.of("alarm", alarm)), new AtomicInteger()));
        }
    }

    /** A condition alarm: raised while {@code on}, logged when it starts and when it clears. */
    void set(String alarm, boolean on, String message) {
        int was = active.get(alarm).getAndSet(on ? 1 : 0);
        if (on && was == 0) {
            log.error("ALARM {}: {}", alarm, message);
            count(alarm);
        } else if (!on && was == 1) {
            log.info("Alarm {} cleared", alarm);
        }
    }

    /** An event alarm: logged and counted each time; its gauge shows it happened at least once. */
    void fire(String alarm, String message) {
        log.error("ALARM {}: {}", alarm, message);
        active.get(alarm).set(1);
        count(alarm);
    }

    private void count(String alarm) {
        Counter.builder("sluice.db.alarms")
                .description("Failover alarms raised")
                .tag("alarm", alarm)
                .register(registry)
                .increment();
    }

    /** How often the alarm was raised in this process. */
    public double raised(String alarm) {
        Counter counter = registry.find("sluice.db.alarms").tag("alarm", alarm).counter();
        return counter == null ? 0 : counter.count();
    }
}
