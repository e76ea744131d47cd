package dev.secondsite.replication.point;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;

import dev.secondsite.replication.point.PointRetention.Point;

/**
 * Retention's thinning: every point of the last crash-consistent interval, one per interval (and every
 * app-consistent one) for the last hour, one per hour (app-consistent preferred) within the history, the newest always.
 */
class PointRetentionTest {
    static final Instant NOON = Instant.parse("2026-12-07T12:00:00Z");
    static final PointRetention DAY = new PointRetention(Duration.ofHours(24), Duration.ofMinutes(5));

    /** A crash-consistent point every second for three hours up to {@code end}, the way a busy CDP disk makes them. */
    static List<Point> everySecond(Instant end) {
        List<Point> points = new ArrayList<>();
        for (long s = 3 * 3600; s >= 0; s--) {
            points.add(new Point(end.minusSeconds(s), false));
        }
        return points;
    }

    @Test
    void threeHoursOfPointsEverySecondThinToTheLastFiveMinutesTwelvePerHourThenOnePerHour() {
        Set<Instant> kept = DAY.kept(everySecond(NOON), NOON);

        // the last 5 minutes: all 301 points (ages 0..300 s)
        assertThat(kept).contains(NOON, NOON.minusSeconds(1), NOON.minusSeconds(300));
        // 11:00..11:55: the newest point of each 5-minute interval, 11:04:59 to 11:54:59
        assertThat(kept).contains(Instant.parse("2026-12-07T11:04:59Z"), Instant.parse("2026-12-07T11:54:59Z"))
                .doesNotContain(Instant.parse("2026-12-07T11:04:58Z"), Instant.parse("2026-12-07T11:00:00Z"),
                        NOON.minusSeconds(302));
        // older than an hour: the newest point of each hour
        assertThat(kept).contains(Instant.parse("2026-12-07T10:59:59Z"), Instant.parse("2026-12-07T09:59:59Z"))
                .doesNotContain(Instant.parse("2026-12-07T10:59:58Z"), Instant.parse("2026-12-07T09:00:00Z"));
        assertThat(kept).hasSize(301 + 11 + 2);
    }

    @Test
    void appConsistentPointsAreAllKeptForAnHourThenPreferredInTheirHour() {
        Point appInLastHour = new Point(NOON.minus(Duration.ofMinutes(30)).minusSeconds(20), true);
        Point newerCrashInItsInterval = new Point(NOON.minus(Duration.ofMinutes(30)).minusSeconds(10), false);
        Point appTwoHoursAgo = new Point(Instant.parse("2026-12-07T10:10:00Z"), true);
        Point newerCrashInThatHour = new Point(Instant.parse("2026-12-07T10:50:00Z"), false);
        Point crashOnly = new Point(Instant.parse("2026-12-07T09:20:00Z"), false);
        Point olderCrash = new Point(Instant.parse("2026-12-07T09:10:00Z"), false);

        Set<Instant> kept = DAY.kept(List.of(olderCrash, crashOnly, appTwoHoursAgo, newerCrashInThatHour, appInLastHour,
                newerCrashInItsInterval), NOON);

        assertThat(kept).containsExactlyInAnyOrder(appInLastHour.time(), newerCrashInItsInterval.time(),
                appTwoHoursAgo.time(), crashOnly.time());
    }

    @Test
    void pointsOlderThanTheHistoryGoButTheNewestStaysHoweverOld() {
        PointRetention twoHours = new PointRetention(Duration.ofHours(2), Duration.ofMinutes(5));
        Set<Instant> kept = twoHours.kept(everySecond(NOON), NOON);
        assertThat(kept).contains(Instant.parse("2026-12-07T10:59:59Z"))
                .doesNotContain(Instant.parse("2026-12-07T09:59:59Z"));
        assertThat(kept).allSatisfy(t -> assertThat(t).isAfterOrEqualTo(NOON.minus(Duration.ofHours(2))));

        List<Point> stale = List.of(new Point(NOON.minus(Duration.ofDays(3)), false),
                new Point(NOON.minus(Duration.ofDays(2)), false));
        assertThat(DAY.kept(stale, NOON)).containsExactly(NOON.minus(Duration.ofDays(2)));
        PointRetention none = new PointRetention(Duration.ZERO, Duration.ofMinutes(5));
        assertThat(none.kept(everySecond(NOON), NOON.plusSeconds(1))).containsExactly(NOON);
    }

    @Test
    void thinningEveryMinuteEndsWhereOneThinningWould() {
        Duration minute = Duration.ofMinutes(1);
        List<Point> all = everySecond(NOON).stream() // with an app-consistent point at 20:34 past each hour
                .map(p -> new Point(p.time(), p.time().getEpochSecond() % 3600 == 1234)).toList();
        List<Point> points = new ArrayList<>();
        Instant housekeeping = all.getFirst().time().plus(minute);
        for (Point point : all) {
            if (!point.time().isBefore(housekeeping)) {
                Set<Instant> kept = DAY.kept(points, housekeeping);
                points.removeIf(p -> !kept.contains(p.time()));
                housekeeping = housekeeping.plus(minute);
            }
            points.add(point);
        }
        assertThat(points).hasSizeLessThan(all.size() / 10);
        Instant later = NOON.plus(minute);
        assertThat(DAY.kept(points, later)).isEqualTo(DAY.kept(all, later));
    }

    @Test
    void aRetentionWithoutACrashConsistentIntervalIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new PointRetention(Duration.ofHours(1), Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> new PointRetention(Duration.ofHours(-1), Duration.ofMinutes(5)));
    }
}
