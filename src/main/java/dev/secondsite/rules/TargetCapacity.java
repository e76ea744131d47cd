package dev.secondsite.rules;

import java.util.List;

/**
 * What the target subscription can create in the target region (seed 004 "Verify target resources").
 *
 * @param vmCreationEnabled the subscription may create VMs in the target region at all
 * @param vCpusAvailable    vCPU quota left in the target region
 * @param availableSizes    VM sizes offered in the target region
 */
public record TargetCapacity(boolean vmCreationEnabled, int vCpusAvailable, List<VmSize> availableSizes) {
    public TargetCapacity {
        availableSizes = List.copyOf(availableSizes);
    }
}
