package dev.secondsite.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;

import org.junit.jupiter.api.Test;

/**
 * The wait between two cycles: in CDP mode the interval runs from one cycle's start to the next's (a busy disk
 * whose pass outlasts the interval is passed again at once), in scan mode from one cycle's end to the next's start.
 */
class AgentCadenceTest {
    static final Instant START = Instant.parse("2026-12-07T18:00:00Z");
    static final Duration SECOND = Duration.ofSeconds(1);

    @Test
    void inCdpModeAPassShorterThanTheIntervalWaitsOutOnlyTheRest() {
        assertThat(Agent.waitAfter(true, START, START.plusMillis(300), SECOND)).isEqualTo(Duration.ofMillis(700));
    }

    @Test
    void inCdpModeAPassLongerThanTheIntervalIsFollowedAtOnce() {
        assertThat(Agent.waitAfter(true, START, START.plusMillis(2500), SECOND)).isEqualTo(Duration.ZERO);
        assertThat(Agent.waitAfter(true, START, START.plus(SECOND), SECOND)).isEqualTo(Duration.ZERO);
    }

    @Test
    void inScanModeTheWholeIntervalFollowsThePassHoweverLongItTook() {
        assertThat(Agent.waitAfter(false, START, START.plusMillis(2500), SECOND)).isEqualTo(SECOND);
        assertThat(Agent.waitAfter(false, START, START.plusMillis(300), Duration.ofSeconds(5)))
                .isEqualTo(Duration.ofSeconds(5));
    }
}
