package dev.secondsite.rules;

import java.util.Objects;

/**
 * A requested change to a VM in the local cloud.
 *
 * @param current               the VM as it is now (including whether Site Recovery protects it)
 * @param requestedSecurityType the security type the update asks for
 */
public record VmUpdateFacts(VmFacts current, VmFacts.SecurityType requestedSecurityType) implements Facts {
    public VmUpdateFacts {
        Objects.requireNonNull(current, "current");
        Objects.requireNonNull(requestedSecurityType, "requestedSecurityType");
    }

    public boolean upgradesToTrustedLaunch() {
        return !current.trustedLaunch() && requestedSecurityType == VmFacts.SecurityType.TRUSTED_LAUNCH;
    }
}
