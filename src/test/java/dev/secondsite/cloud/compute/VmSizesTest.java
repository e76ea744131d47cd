package dev.secondsite.cloud.compute;

import dev.secondsite.arm.ArmException;
import dev.secondsite.rules.TargetSizes;
import dev.secondsite.rules.VmSize;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The size catalogue: real figures, consistent families, and seed 004's "same or closest size" over it. */
class VmSizesTest {

    @Test
    void catalogueHoldsRealSizesAcrossFamilies() {
        assertThat(VmSizes.all()).hasSizeGreaterThanOrEqualTo(12);
        Set<String> families = new HashSet<>();
        for (ComputeSize s : VmSizes.all()) {
            families.add(s.family());
            assertThat(s.name()).startsWith("Standard_");
            assertThat(s.vCpus()).isPositive();
            assertThat(s.maxNics()).isPositive();
            assertThat(s.gen1() || s.gen2()).as(s.name()).isTrue();
            assertThat(!s.trustedLaunch() || s.gen2()).as("trusted launch needs generation 2: %s", s.name()).isTrue();
            assertThat(s.family()).matches("standard[A-Za-z0-9]+Family");
            VmSize rule = s.toVmSize();
            assertThat(rule.cores()).isEqualTo(s.vCpus());
            assertThat(rule.memoryMb()).isEqualTo(s.memoryMb());
        }
        assertThat(families).hasSizeGreaterThanOrEqualTo(7);
        assertThat(VmSizes.families().keySet()).containsAll(families);

        ComputeSize d2s = VmSizes.find("standard_d2s_v3").orElseThrow();
        assertThat(d2s.name()).isEqualTo("Standard_D2s_v3");
        assertThat(d2s.memoryMb()).isEqualTo(8192);
        assertThat(d2s.maxDataDisks()).isEqualTo(4);
        assertThat(d2s.premiumIo()).isTrue();
        assertThat(VmSizes.find("Standard_DS1_v2").orElseThrow().memoryMb()).isEqualTo(3584);
        assertThat(VmSizes.find("Standard_A2_v2").orElseThrow().hyperVGenerations()).isEqualTo("V1");
        assertThat(VmSizes.find("Standard_DC2s_v2").orElseThrow().hyperVGenerations()).isEqualTo("V2");
        assertThatThrownBy(() -> VmSizes.require("Standard_Nope", "vmSize", "eastus"))
                .isInstanceOf(ArmException.class).hasMessageContaining("Standard_D2s_v3");
    }

    @Test
    void closestSizeIsTheSameOrTheSmallestThatFits() {
        // Same name when the catalogue has it.
        assertThat(VmSizes.closest(new VmSize("Standard_E4s_v3", 4, 32768)).orElseThrow().name()).isEqualTo("Standard_E4s_v3");
        // An on-premises 3 vCPU / 6 GiB machine: the smallest size with at least that (4 vCPUs, then least memory).
        ComputeSize picked = VmSizes.closest(VmSize.of(3, 6144)).orElseThrow();
        assertThat(picked.vCpus()).isEqualTo(4);
        assertThat(picked.memoryMb()).isEqualTo(8192);
        assertThat(TargetSizes.pick(VmSize.of(3, 6144), VmSizes.asRuleSizes()).orElseThrow().name()).isEqualTo(picked.name());
        // Exactly the shape of a catalogue size: that shape.
        assertThat(VmSizes.closest(VmSize.of(2, 4096)).orElseThrow().memoryMb()).isEqualTo(4096);
        // Nothing fits a 64 vCPU machine.
        assertThat(VmSizes.closest(VmSize.of(64, 262144))).isEmpty();
    }
}
