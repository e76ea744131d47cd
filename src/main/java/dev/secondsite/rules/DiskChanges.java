package dev.secondsite.rules;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * How a protected VM's disks changed since protection was enabled (seed 002 "VM/Disk management").
 * Disks are matched by id; a disk with a new id at a location where a protected disk was is an identity
 * change (that disk shows as "Not Protected"), not an add plus a remove.
 */
public record DiskChanges(List<DiskFacts> added, List<DiskFacts> removed, List<DiskFacts> resized,
                          List<DiskFacts> identityChanged) {

    public DiskChanges {
        added = List.copyOf(added);
        removed = List.copyOf(removed);
        resized = List.copyOf(resized);
        identityChanged = List.copyOf(identityChanged);
    }

    public static DiskChanges between(List<DiskFacts> before, List<DiskFacts> after) {
        Map<String, DiskFacts> beforeById = before.stream().collect(Collectors.toMap(DiskFacts::id, Function.identity(), (a, b) -> a));
        Set<String> afterIds = after.stream().map(DiskFacts::id).collect(Collectors.toSet());
        Map<String, DiskFacts> goneByLocation = before.stream()
                .filter(d -> !afterIds.contains(d.id()) && d.location() != null)
                .collect(Collectors.toMap(DiskFacts::location, Function.identity(), (a, b) -> a));

        List<DiskFacts> added = new ArrayList<>();
        List<DiskFacts> resized = new ArrayList<>();
        List<DiskFacts> identityChanged = new ArrayList<>();
        Set<String> replacedIds = new HashSet<>();
        for (DiskFacts d : after) {
            DiskFacts was = beforeById.get(d.id());
            if (was != null) {
                if (was.sizeBytes() != d.sizeBytes()) resized.add(d);
            } else if (d.location() != null && goneByLocation.containsKey(d.location())) {
                identityChanged.add(d);
                replacedIds.add(goneByLocation.get(d.location()).id());
            } else {
                added.add(d);
            }
        }
        List<DiskFacts> removed = before.stream()
                .filter(d -> !afterIds.contains(d.id()) && !replacedIds.contains(d.id()))
                .toList();
        return new DiskChanges(added, removed, resized, identityChanged);
    }

    /** The protected disk an identity-changed disk replaced (same location). */
    public static DiskFacts replacedBy(List<DiskFacts> before, DiskFacts changed) {
        return before.stream().filter(d -> Objects.equals(d.location(), changed.location())).findFirst().orElse(null);
    }

    public boolean none() {
        return added.isEmpty() && removed.isEmpty() && resized.isEmpty() && identityChanged.isEmpty();
    }
}
