package io.sluice.failover;

/**
 * Which server answered: address and port as the server sees them, plus its start time, so that a restarted
 * server or a different instance behind the same endpoint are told apart.
 */
public record WriterIdentity(String address, int port, String startedAt) {
    @Override
    public String toString() {
        return address + ":" + port + " (up since " + startedAt + ")";
    }
}
