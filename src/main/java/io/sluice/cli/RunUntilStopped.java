package io.sluice.cli;

import io.sluice.runtime.Sluice;
import java.util.concurrent.CountDownLatch;

/** Runs a started process until SIGTERM/SIGINT, then closes it in order (the JVM waits for the hook). */
final class RunUntilStopped {
    private RunUntilStopped() {}

    static int run(Sluice sluice) throws InterruptedException {
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            System.out.println("Sluice is shutting down...");
                            sluice.close();
                            System.out.println("Sluice stopped.");
                            stopped.countDown();
                        },
                        "sluice-shutdown"));
        stopped.await();
        return 0;
    }
}
