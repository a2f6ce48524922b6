package io.sluice.runtime;

import io.sluice.function.FunctionResult;
import io.sluice.function.Functions;
import io.sluice.queue.DeadLetterReplay;
import java.util.List;

/** The syncs' functions as the transform a dead-letter replay needs: one event in, its outputs out, or the error. */
public final class FunctionReplay {
    private FunctionReplay() {}

    /** Null when there are no functions (replays then deliver dead letters as they are). */
    public static DeadLetterReplay.Transform of(Functions functions) {
        if (functions == null) return null;
        return (syncId, event) -> {
            FunctionResult result = functions.apply(syncId, List.of(event));
            if (!result.failures().isEmpty())
                throw new IllegalStateException(result.failures().getFirst().error());
            return result.output();
        };
    }
}
