package io.sluice.suppression;

/**
 * Which people the collector must not collect (docs/privacy.md): an event is dropped when its {@code userId} or its
 * {@code anonymousId} is suppressed. Called per event on the collector's hot path, so an implementation answers
 * from memory in O(1) and {@link #isEmpty()} lets a deployment without suppressions skip even that.
 */
public interface Suppressions {
    /** Nobody is suppressed. */
    Suppressions NONE = new Suppressions() {
        @Override
        public boolean isEmpty() {
            return true;
        }

        @Override
        public boolean drops(String userId, String anonymousId) {
            return false;
        }
    };

    boolean isEmpty();

    /**
     * Whether an event with these ids (each null when absent) is dropped; a drop is counted by the implementation.
     */
    boolean drops(String userId, String anonymousId);
}
