package io.sluice.function;

import java.time.Duration;
import java.util.regex.Pattern;
import org.graalvm.polyglot.PolyglotException;
import org.graalvm.polyglot.SourceSection;

/** A function failed on one event (or did not compile): the message is what users see, with the script's line. */
final class ScriptFailure extends Exception {
    private static final int MAX_MESSAGE = 1000;
    private final boolean timedOut;

    private ScriptFailure(String message, boolean timedOut) {
        super(message, null, false, false);
        this.timedOut = timedOut;
    }

    static ScriptFailure rejected(String message) {
        return new ScriptFailure(bound(message), false);
    }

    static ScriptFailure timedOut(Duration timeout) {
        return new ScriptFailure("timed out after " + timeout.toMillis() + " ms", true);
    }

    /** The guest error's first message line, plus the line in {@code sourceName} where it happened, if known. */
    static ScriptFailure of(PolyglotException e, String sourceName) {
        String message = e.getMessage() == null ? e.toString() : e.getMessage().strip();
        int newline = message.indexOf('\n');
        if (newline > 0) message = message.substring(0, newline).strip();
        Integer line = lineIn(e, sourceName);
        if (line != null) {
            // syntax errors arrive as "SyntaxError: name.js:3:10 Expected ..."; the line is appended instead
            message = message.replaceFirst(Pattern.quote(sourceName) + ":\\d+:\\d+ ", "");
            message = bound(message) + " (line " + line + ")";
        } else {
            message = bound(message);
        }
        return new ScriptFailure(message, false);
    }

    private static Integer lineIn(PolyglotException e, String sourceName) {
        SourceSection at = e.getSourceLocation();
        if (at != null && at.getSource().getName().equals(sourceName)) return at.getStartLine();
        for (PolyglotException.StackFrame frame : e.getPolyglotStackTrace()) {
            SourceSection section = frame.isGuestFrame() ? frame.getSourceLocation() : null;
            if (section != null && section.getSource().getName().equals(sourceName)) return section.getStartLine();
        }
        return null;
    }

    private static String bound(String message) {
        return message.length() > MAX_MESSAGE ? message.substring(0, MAX_MESSAGE) + "…" : message;
    }

    boolean isTimeout() {
        return timedOut;
    }
}
