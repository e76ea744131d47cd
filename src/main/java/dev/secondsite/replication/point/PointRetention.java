package dev.secondsite.replication.point;

import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Which recovery points retention keeps, the way Site Recovery thins them: a pass can make a point every second
 * (CDP mode while the disk is busy), but a day of those would be 86,400 points, each holding on to the chunk
 * versions it references. So, by age:
 * <ul>
 *   <li>within one crash-consistent interval (the policy's crashConsistentFrequencyInMinutes): every point, the
 *       fine-grained recent ones a failover to the latest point picks from;</li>
 *   <li>within the last hour: the newest point of each crash-consistent interval (intervals aligned to the epoch),
 *       and every app-consistent point (Site Recovery's "12 crash-consistent points and 1 app-consistent point");</li>
 *   <li>within the policy's recovery point history: one point per hour, the newest app-consistent one if the hour
 *       has one, else the newest ("beyond the last hour, only one recovery point per hour is kept");</li>
 *   <li>older: none, except that the newest point is always kept, however old (a disk never loses its last point).</li>
 * </ul>
 * Housekeeping applies this again and again, so a point moves down the tiers as it ages; once dropped it is gone.
 * Slots are aligned to the epoch, so the disks of one machine, which have points at the same times, keep the same.
 */
public record PointRetention(Duration history, Duration crashConsistentEvery) {
    /** Age past which one point per hour is kept. */
    public static final Duration HOURLY_AFTER = Duration.ofHours(1);

    /** A recovery point as retention sees it: when it was made, and whether it is app-consistent. */
    public record Point(Instant time, boolean appConsistent) {
    }

    public PointRetention {
        if (history.isNegative() || !crashConsistentEvery.isPositive()) {
            throw new IllegalArgumentException("retention needs a history >= 0 and a crash-consistent interval > 0, got "
                    + history + " and " + crashConsistentEvery);
        }
    }

    /** The times of the points to keep at {@code now}. */
    public Set<Instant> kept(Collection<Point> points, Instant now) {
        // Each slot's choice is made among all its points, whatever their tier, so it is the same at every pass:
        // a point past a tier's age is in a slot that has ended (no newer point can join it), and the point
        // chosen there was kept by the younger tiers before (the newest of an interval or hour, or app-consistent).
        Map<Long, Point> newestPerInterval = new HashMap<>();
        Map<Long, Point> chosenPerHour = new HashMap<>();
        Comparator<Point> hourly = Comparator.comparing(Point::appConsistent).thenComparing(Point::time);
        for (Point point : points) {
            newestPerInterval.merge(slot(point.time(), crashConsistentEvery), point,
                    (a, b) -> a.time().isAfter(b.time()) ? a : b);
            chosenPerHour.merge(slot(point.time(), HOURLY_AFTER), point, (a, b) -> hourly.compare(a, b) >= 0 ? a : b);
        }
        Set<Instant> kept = new HashSet<>();
        for (Point point : points) {
            Duration age = Duration.between(point.time(), now);
            boolean keep = age.compareTo(crashConsistentEvery) <= 0
                    || age.compareTo(HOURLY_AFTER) <= 0 && (point.appConsistent()
                            || newestPerInterval.get(slot(point.time(), crashConsistentEvery)).equals(point))
                    || chosenPerHour.get(slot(point.time(), HOURLY_AFTER)).equals(point);
            if (keep && age.compareTo(history) <= 0) {
                kept.add(point.time());
            }
        }
        points.stream().map(Point::time).max(Comparator.naturalOrder()).ifPresent(kept::add);
        return kept;
    }

    private static long slot(Instant time, Duration width) {
        return Math.floorDiv(time.toEpochMilli(), width.toMillis());
    }
}
