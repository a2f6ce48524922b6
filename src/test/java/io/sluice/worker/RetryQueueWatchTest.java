package io.sluice.worker;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** When the retry loop may skip its poll: only while the queue was seen empty and nothing was announced since. */
class RetryQueueWatchTest {
    final RetryQueueWatch watch = new RetryQueueWatch();

    @Test
    void pollsUntilTheQueueIsSeenEmptyThenSkipsUntilAnAnnouncement() {
        assertThat(watch.skip()).as("nothing known yet").isFalse();
        assertThat(watch.worthLooking()).isTrue();

        watch.looked(true, watch.announcements());
        assertThat(watch.skip()).as("empty, nothing announced").isTrue();

        watch.announced();
        assertThat(watch.skip()).as("rows were announced").isFalse();
    }

    @Test
    void anAnnouncementDuringThePollThatSawTheQueueEmptyIsNotLost() {
        long before = watch.announcements(); // the poll starts
        watch.announced(); // an insert commits while it runs
        watch.looked(true, before); // its look ran before that commit
        assertThat(watch.skip()).isFalse();
    }

    @Test
    void aQueueWithRowsIsPolledEveryRoundAndLookedAtAgainOnlyAfterChainsWereFound() {
        watch.looked(false, watch.announcements()); // rows, not due yet (or leased elsewhere)
        assertThat(watch.skip()).isFalse();
        assertThat(watch.worthLooking()).as("looked just now").isFalse();

        watch.seenRows(); // a chain was found: it may have been the last
        assertThat(watch.skip()).isFalse();
        assertThat(watch.worthLooking()).isTrue();
    }
}
