package dev.secondsite.rules;

import java.util.Objects;

/**
 * The account the process server uses to push-install the Mobility service (seed 001).
 *
 * @param domainAccount                 a domain account (false: a local account on the machine)
 * @param localAccountTokenFilterPolicy the Windows registry value LocalAccountTokenFilterPolicy is 1
 *                                      (remote UAC filtering disabled)
 */
public record InstallAccount(String userName, boolean domainAccount, boolean localAccountTokenFilterPolicy) {
    public InstallAccount {
        Objects.requireNonNull(userName, "userName");
    }

    public boolean root() {
        return userName.equals("root");
    }
}
