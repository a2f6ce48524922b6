package io.sluice.failover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.db.WritePermits;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** The one gate: counts running writes, lets draining writes finish a pause, and seals once quiesced. */
class WriteGateTest {
    private final WriteGate gate = new WriteGate(Clock.systemUTC(), Duration.ZERO);

    @Test
    void countsRunningWritesUntilTheirPermitsClose() throws Exception {
        WritePermits.Permit first = gate.enter(WritePermits.Work.NEW);
        WritePermits.Permit second = gate.enter(WritePermits.Work.FINISHING_HELD);
        assertThat(gate.activeWrites()).isEqualTo(2);
        first.close();
        first.close(); // closing twice counts once
        assertThat(gate.activeWrites()).isEqualTo(1);
        second.close();
        assertThat(gate.activeWrites()).isZero();
        assertThat(gate.admittedWrites()).isEqualTo(2);
    }

    @Test
    void aPauseRefusesNewWorkButLetsHeldWorkFinish() throws Exception {
        gate.pause(true);
        assertThatThrownBy(() -> gate.enter(WritePermits.Work.NEW))
                .isInstanceOf(WriteHeldException.class)
                .hasMessageContaining("paused by an operator");
        gate.enter(WritePermits.Work.FINISHING_HELD).close(); // completing a batch this process holds
        assertThat(gate.activeWrites()).isZero();
    }

    @Test
    void notQuiescedWhileAWriteRunsOrWorkIsHeld() throws Exception {
        WritePermits.Permit running = gate.enter(WritePermits.Work.NEW);
        gate.pause(true);
        assertThat(gate.quiesce(() -> true)).as("a write is running").isFalse();
        running.close();
        AtomicBoolean held = new AtomicBoolean(true);
        assertThat(gate.quiesce(() -> !held.get()))
                .as("a retry chain is still held")
                .isFalse();
        gate.enter(WritePermits.Work.FINISHING_HELD).close(); // its settle may still go ahead
        held.set(false);
        assertThat(gate.quiesce(() -> !held.get())).isTrue();
    }

    @Test
    void onceQuiescedNothingGetsInUntilResumed() throws Exception {
        gate.pause(true);
        assertThat(gate.quiesce(() -> true)).isTrue();
        long admitted = gate.admittedWrites();
        assertThatThrownBy(() -> gate.enter(WritePermits.Work.FINISHING_HELD))
                .as("not even a draining write")
                .isInstanceOf(WriteHeldException.class);
        assertThatThrownBy(() -> gate.enter(WritePermits.Work.NEW)).isInstanceOf(WriteHeldException.class);
        assertThat(gate.admittedWrites()).isEqualTo(admitted);
        assertThat(gate.quiesce(() -> false)).as("stays quiesced").isTrue();
        gate.pause(false);
        assertThat(gate.quiesce(() -> true)).as("not paused: not quiesced").isFalse();
        gate.enter(WritePermits.Work.NEW).close();
    }

    @Test
    void aWriterProblemHoldsDrainingWritesToo() {
        gate.writerLost("SQLSTATE 25006");
        assertThatThrownBy(() -> gate.enter(WritePermits.Work.FINISHING_HELD))
                .isInstanceOf(WriteHeldException.class)
                .hasMessageContaining("25006");
    }
}
