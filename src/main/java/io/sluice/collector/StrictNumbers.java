package io.sluice.collector;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.util.JsonParserDelegate;
import java.io.IOException;

/**
 * A parser that refuses decimal numbers a double cannot hold: {@code 1e400} would be stored as the string
 * "Infinity" and {@code 1e-400} as 0.0, changing the event. Integers of any size stay exact (BigInteger) and are
 * not affected. The text is looked at only when the value came out as zero, which is rare and cheap to confirm.
 */
final class StrictNumbers extends JsonParserDelegate {

    StrictNumbers(JsonParser parser) {
        super(parser);
    }

    @Override
    public double getDoubleValue() throws IOException {
        double value = delegate.getDoubleValue();
        if (Double.isInfinite(value) || Double.isNaN(value)) throw notRepresentable();
        if (value == 0.0
                && !zeroText(delegate.getTextCharacters(), delegate.getTextOffset(), delegate.getTextLength())) {
            throw notRepresentable();
        }
        return value;
    }

    @Override
    public float getFloatValue() throws IOException {
        return (float) getDoubleValue();
    }

    /** Whether the number's digits before any exponent are all zeros (so 0.0 is its true value). */
    private static boolean zeroText(char[] text, int offset, int length) {
        for (int i = offset; i < offset + length; i++) {
            char c = text[i];
            if (c == 'e' || c == 'E') return true;
            if (c >= '1' && c <= '9') return false;
        }
        return true;
    }

    private Rejection notRepresentable() throws IOException {
        return Rejection.badRequest(
                "invalid_number",
                "the number " + delegate.getText() + " at line "
                        + delegate.currentTokenLocation().getLineNr() + ", column "
                        + delegate.currentTokenLocation().getColumnNr()
                        + " is out of range for a 64-bit floating-point value");
    }
}
