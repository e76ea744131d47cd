/**
 * The seed rule catalogue: every rule the ASR seed documents impose, as data.
 *
 * <h2>Shape</h2>
 * <ul>
 *   <li>{@link dev.secondsite.rules.RuleCatalogue} is the one table. Each {@link dev.secondsite.rules.Rule} has a
 *       stable PascalCase code, an HTTP status (400 bad input, 409 conflict with current state), the seed(s) it
 *       comes from, the {@link dev.secondsite.rules.Operation}s (and {@link dev.secondsite.rules.Scenario}s) it is
 *       checked at, a summary, a message telling the user what to do, and a check over {@link dev.secondsite.rules.Facts}.</li>
 *   <li>Facts are immutable snapshots that callers fill from real resources; each operation is judged on one
 *       kind: {@link dev.secondsite.rules.ReplicationFacts} (enable replication, update protected item, test
 *       failover, failover, reprotect), {@link dev.secondsite.rules.VmUpdateFacts}, {@link dev.secondsite.rules.PolicyFacts},
 *       {@link dev.secondsite.rules.PrivateEndpointFacts}, {@link dev.secondsite.rules.ReplicationLinkFacts},
 *       {@link dev.secondsite.rules.ServerRegistrationFacts},
 *       {@link dev.secondsite.rules.MoveFacts}. Unset booleans mean "not reported" and err towards a violation.</li>
 *   <li>{@code violations(op, facts)} lists every broken rule (a "validate" action); {@code enforce(op, facts)}
 *       throws one ArmException: the rule's own for one violation, {@code MultipleRuleViolations} (400) with
 *       each violation in details for several.</li>
 *   <li>Numbers live in {@link dev.secondsite.rules.Limits}; seed-003 names and roles in
 *       {@link dev.secondsite.rules.PrivateLink}; documented non-rule behaviour (replica disks get public network
 *       access, VHDX→VHD on failover, …) in {@link dev.secondsite.rules.DocumentedDefaults}; the "same or
 *       closest" target size in {@link dev.secondsite.rules.TargetSizes}; protected-disk diffs in
 *       {@link dev.secondsite.rules.DiskChanges}.</li>
 * </ul>
 *
 * <h2>Where the seeds are ambiguous, and what was decided</h2>
 * <ul>
 *   <li><b>FQDN pattern (003).</b> The seed prints {@code {Vault-ID}-asr-pod01-{type}-.{target-geo-code}.privatelink…};
 *       "-." would end a DNS label with a hyphen (invalid), so the hyphen is dropped:
 *       {@code {vault-id}-asr-pod01-{type}.{geo}.privatelink.siterecovery.windowsazure.com}. The geo code is that of
 *       the region passed in (the vault's, which seed 004 recommends be the target). The seed names no types; the
 *       five used (id1, prot2, rcm1, srs1, tel1) follow Azure.</li>
 *   <li><b>Generation 2 OS disk (002).</b> The VM requirements table says up to 4 TB; the EFI row and the VM type
 *       row say "less than 2 TB". The explicit limit (4 TiB) is enforced; above 1 TiB the large-disk rules apply
 *       (provider after 2.0.9214.0, managed disks only). "TB" is read as TiB throughout.</li>
 *   <li><b>Hot/Cool storage (002).</b> Read literally: a target account with a hot or cool access tier is refused,
 *       so Hyper-V targets are accounts without a tier (general-purpose v1, premium). Block-blob-only kinds are
 *       refused separately ("Block blobs: No").</li>
 *   <li><b>BitLocker vs encrypted (002).</b> Two rows, two rules, two disk traits: BITLOCKER and ENCRYPTED (any
 *       other disk encryption).</li>
 *   <li><b>Excluded disks (002 "Exclude disk: Yes").</b> Size/feature limits apply to replicated disks only; the
 *       trusted-launch shared-disk rule (000: "attached shared disks") and disk-change detection see all disks.</li>
 *   <li><b>Clock skew (001).</b> "If the system clock is 15 minutes ahead or behind, setup might fail": 15
 *       minutes or more is refused; the rule applies to every registering server, not only configuration servers.
 *       The registration key's 5 days are inclusive (refused strictly after issued + 5 days).</li>
 *   <li><b>Vault location (001 vs 004).</b> 001: "any region, except the source region" (enforced for the
 *       physical move when the source is an Azure region). 004: "we recommend" the target region (not enforced).
 *       Both require target storage and networks in the vault's region (A2A, physical, VMware; not Hyper-V, whose
 *       seed lets the vault be elsewhere).</li>
 *   <li><b>Cross-cloud A2A (001).</b> The Government/public move "treats the VMs as physical servers", so A2A
 *       public↔government is refused; US Gov↔US DoD stays allowed for Standard VMs and is refused only for trusted
 *       launch (000).</li>
 *   <li><b>Retention (001).</b> 72 hours standard / 24 hours premium is enforced for the configuration-server
 *       scenarios (physical and VMware share the policy type).</li>
 *   <li><b>Test network (001).</b> "Don't use the production network" is enforced for every scenario.</li>
 *   <li><b>Target size (004).</b> "Same or closest": same name, else same shape, else the smallest size with at
 *       least the source's vCPUs and memory; never a smaller size.</li>
 *   <li><b>VMM/host versions (002).</b> "2019 hosts should be managed in VMM 2019" is read as: the VMM release
 *       must be at least the host's Windows Server release.</li>
 *   <li><b>Trusted launch preview vaults (000).</b> No date is given; vaults carry a boolean
 *       {@code createdBeforeTrustedLaunchPreview}, false for every vault SecondSite creates.</li>
 *   <li><b>Trusted services exception (003).</b> Required only on storage accounts whose firewall is on (the
 *       exception doesn't exist otherwise).</li>
 *   <li><b>Private-endpoint IPs (003).</b> Checked when the vault endpoint is created, on whichever of the source
 *       and recovery subnets are known (hub and spoke: one subnet); and again when replication is enabled, for
 *       the two addresses the region pairing's links take in each approved endpoint's subnet
 *       ({@link dev.secondsite.rules.ReplicationLinkFacts}, ADD_REPLICATION_PRIVATE_LINKS).</li>
 *   <li><b>Region pairing links (003).</b> "Two additional private links for the source and target region
 *       pairing": the seed gives no names and none were found published, so they are
 *       {@code {vault-id}-asr-pod01-src1.{source-geo}} and {@code …-tgt1.{target-geo}} (same zone, same pattern).
 *       An on-premises machine has no source region; its pairing is the vault's region with itself. They are
 *       never removed when replication is disabled (the seed only describes adding them).</li>
 * </ul>
 */
package dev.secondsite.rules;
