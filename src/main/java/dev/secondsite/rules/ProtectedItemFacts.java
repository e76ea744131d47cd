package dev.secondsite.rules;

import java.util.List;
import java.util.Objects;

/**
 * What a protected item recorded when protection was enabled; an update is judged against it.
 *
 * @param protectedVm              the VM as it was protected (its disks, by id and location)
 * @param targetStorageAccountIds  the target storage accounts chosen at enable time
 */
public record ProtectedItemFacts(VmFacts protectedVm, List<String> targetStorageAccountIds) {
    public ProtectedItemFacts {
        Objects.requireNonNull(protectedVm, "protectedVm");
        targetStorageAccountIds = List.copyOf(targetStorageAccountIds);
    }
}
