package io.sluice.worker;

import java.net.InetAddress;
import java.util.UUID;

/** A worker's lease owner name: host and pid say where it runs, the suffix tells restarts apart. */
public final class WorkerIdentity {
    private WorkerIdentity() {}

    public static String create() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (Exception e) {
            host = "unknown-host";
        }
        return host + "-" + ProcessHandle.current().pid() + "-"
                + UUID.randomUUID().toString().substring(0, 8);
    }
}
