package io.sluice.support;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.LoggerFactory;

/** Collects what is logged above WARN (ERROR) anywhere in the JVM while open, to prove that input did not cause it. */
public final class LogCapture extends AppenderBase<ILoggingEvent> implements AutoCloseable {
    private final List<String> errors = new CopyOnWriteArrayList<>();

    public static LogCapture open() {
        LogCapture capture = new LogCapture();
        capture.setName("test-capture");
        capture.setContext((ch.qos.logback.classic.LoggerContext) LoggerFactory.getILoggerFactory());
        capture.start();
        root().addAppender(capture);
        return capture;
    }

    @Override
    protected void append(ILoggingEvent event) {
        if (event.getLevel().isGreaterOrEqual(Level.ERROR)) {
            errors.add(event.getLoggerName() + ": " + event.getFormattedMessage()
                    + (event.getThrowableProxy() == null
                            ? ""
                            : " (" + event.getThrowableProxy().getClassName() + ")"));
        }
    }

    /** Lines logged at ERROR since the capture started (or was last cleared). */
    public List<String> errors() {
        return List.copyOf(errors);
    }

    public void clear() {
        errors.clear();
    }

    @Override
    public void close() {
        root().detachAppender(this);
        stop();
    }

    private static Logger root() {
        return (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    }
}
