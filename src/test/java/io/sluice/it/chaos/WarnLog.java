package io.sluice.it.chaos;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.LoggerFactory;

/**
 * WARN and ERROR lines of one logger tree, with the time they were logged: lets a chaos test measure when the
 * process noticed a fault and check that its log says what the fault is.
 */
final class WarnLog extends AppenderBase<ILoggingEvent> implements AutoCloseable {
    record Line(long nanos, String logger, String text) {}

    private final List<Line> lines = new CopyOnWriteArrayList<>();
    private final String loggerName;

    private WarnLog(String loggerName) {
        this.loggerName = loggerName;
    }

    static WarnLog open(String loggerName) {
        WarnLog log = new WarnLog(loggerName);
        log.setName("chaos-warn-" + loggerName);
        log.setContext((LoggerContext) LoggerFactory.getILoggerFactory());
        log.start();
        log.logger().addAppender(log);
        return log;
    }

    @Override
    protected void append(ILoggingEvent event) {
        if (!event.getLevel().isGreaterOrEqual(Level.WARN)) return;
        String text = event.getFormattedMessage();
        if (event.getThrowableProxy() != null)
            text += " (" + event.getThrowableProxy().getClassName() + ": "
                    + event.getThrowableProxy().getMessage() + ")";
        lines.add(new Line(System.nanoTime(), event.getLoggerName(), text));
    }

    List<Line> since(long nanos) {
        return lines.stream().filter(l -> l.nanos() >= nanos).toList();
    }

    private Logger logger() {
        return (Logger) LoggerFactory.getLogger(loggerName);
    }

    @Override
    public void close() {
        logger().detachAppender(this);
        stop();
    }
}
