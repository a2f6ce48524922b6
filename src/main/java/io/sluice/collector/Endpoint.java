package io.sluice.collector;

import java.util.List;

/**
 * One tracking-API path: the paths of Segment's HTTP API and the short ones analytics-next uses
 * ({@code /v1/t} … and {@code /v1/b} for its batched mode). {@code type == null} means a batch body.
 */
record Endpoint(String path, EventType type) {

    boolean isBatch() {
        return type == null;
    }

    static final List<Endpoint> ALL = List.of(
            new Endpoint("/v1/track", EventType.TRACK),
            new Endpoint("/v1/identify", EventType.IDENTIFY),
            new Endpoint("/v1/page", EventType.PAGE),
            new Endpoint("/v1/screen", EventType.SCREEN),
            new Endpoint("/v1/group", EventType.GROUP),
            new Endpoint("/v1/alias", EventType.ALIAS),
            new Endpoint("/v1/t", EventType.TRACK),
            new Endpoint("/v1/i", EventType.IDENTIFY),
            new Endpoint("/v1/p", EventType.PAGE),
            new Endpoint("/v1/s", EventType.SCREEN),
            new Endpoint("/v1/g", EventType.GROUP),
            new Endpoint("/v1/a", EventType.ALIAS),
            new Endpoint("/v1/batch", null),
            new Endpoint("/v1/import", null),
            new Endpoint("/v1/b", null));
}
