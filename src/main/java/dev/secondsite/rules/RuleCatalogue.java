package dev.secondsite.rules;

import dev.secondsite.arm.ArmException;
import dev.secondsite.cloud.Region;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static dev.secondsite.rules.Operation.ADD_REPLICATION_PRIVATE_LINKS;
import static dev.secondsite.rules.Operation.CREATE_POLICY;
import static dev.secondsite.rules.Operation.CREATE_PRIVATE_ENDPOINT;
import static dev.secondsite.rules.Operation.ENABLE_REPLICATION;
import static dev.secondsite.rules.Operation.FAILOVER;
import static dev.secondsite.rules.Operation.LINK_PRIVATE_DNS_ZONE;
import static dev.secondsite.rules.Operation.MOVE_RESOURCE;
import static dev.secondsite.rules.Operation.REGISTER_SERVER;
import static dev.secondsite.rules.Operation.REPROTECT;
import static dev.secondsite.rules.Operation.TEST_FAILOVER;
import static dev.secondsite.rules.Operation.UPDATE_POLICY;
import static dev.secondsite.rules.Operation.UPDATE_PROTECTED_ITEM;
import static dev.secondsite.rules.Operation.UPDATE_VM;
import static dev.secondsite.rules.Rule.define;
import static dev.secondsite.rules.Scenario.A2A;
import static dev.secondsite.rules.Scenario.HYPERV_TO_AZURE;
import static dev.secondsite.rules.Scenario.PHYSICAL_TO_AZURE;
import static dev.secondsite.rules.Scenario.VMWARE_TO_AZURE;
import static dev.secondsite.rules.ServerRegistrationFacts.ServerType.CONFIGURATION_SERVER;
import static dev.secondsite.rules.ServerRegistrationFacts.ServerType.HYPERV_HOST;
import static dev.secondsite.rules.ServerRegistrationFacts.ServerType.VMM_SERVER;
import static dev.secondsite.rules.VmFacts.OsType.LINUX;
import static dev.secondsite.rules.VmFacts.OsType.WINDOWS;

/**
 * Every rule the seed documents impose, as one table. Each entry: code, HTTP status, seed(s); the operations
 * and scenarios it applies to; a summary; the message telling the user what to do; and the check, which
 * returns what it found wrong (or null). The comment above each entry paraphrases the seed sentence.
 *
 * <p>{@link #violations} lists every broken rule (for a "validate" action); {@link #enforce} throws one
 * {@link ArmException}: the rule's own error when one rule is broken, MultipleRuleViolations (400) with each
 * rule's error in details when several are.
 */
public final class RuleCatalogue {
    private RuleCatalogue() {}

    private static final int BAD_REQUEST = 400;
    private static final int CONFLICT = 409;

    /** The configuration-server stack (seed 001's physical scenario; VMware shares it). */
    private static final Set<Scenario> CONFIG_SERVER = Set.of(PHYSICAL_TO_AZURE, VMWARE_TO_AZURE);
    private static final Set<Scenario> NOT_A2A = Set.of(HYPERV_TO_AZURE, PHYSICAL_TO_AZURE, VMWARE_TO_AZURE);
    /** Scenarios whose target storage and networks must be in the vault's region (seeds 004 and 001). */
    private static final Set<Scenario> VAULT_REGION_TARGETS = Set.of(A2A, PHYSICAL_TO_AZURE, VMWARE_TO_AZURE);

    public static final String MULTIPLE_VIOLATIONS = "MultipleRuleViolations";
    /** The state a disk whose ID changed shows (seed 002). */
    public static final String NOT_PROTECTED = "Not Protected";

    private static final Pattern PASCAL_CASE = Pattern.compile("[A-Z][A-Za-z0-9]*");
    private static final Set<String> SEEDS = Set.of("000", "001", "002", "003", "004");

    private static final List<Rule> RULES = List.of(

            // ================================ Seed 000: trusted launch VMs ================================

            // "Scenario: Available only for Azure-to-Azure scenario."
            define("TrustedLaunchScenarioNotSupported", BAD_REQUEST, "000").on(ENABLE_REPLICATION).in(NOT_A2A)
                    .summary("Trusted launch VMs can be protected only with Azure-to-Azure replication.")
                    .message("Protect the trusted launch VM with Azure-to-Azure replication, or use this scenario for a Standard security type VM.")
                    .check(ReplicationFacts.class, f -> when(f.vm().trustedLaunch(), () ->
                            "VM '" + f.vm().name() + "' is a trusted launch VM and the scenario is " + f.scenario().displayName() + ".")),

            // "Operating system: Support available only for Windows OS. Linux OS is currently not supported."
            define("TrustedLaunchLinuxNotSupported", BAD_REQUEST, "000").on(ENABLE_REPLICATION).in(A2A)
                    .summary("Trusted launch VMs can be protected only when they run Windows.")
                    .message("Linux trusted launch VMs can't be protected yet; protect Windows trusted launch VMs or Linux VMs of the Standard security type.")
                    .check(ReplicationFacts.class, f -> when(f.vm().trustedLaunch() && f.vm().osType() == LINUX, () ->
                            "VM '" + f.vm().name() + "' is a trusted launch VM running Linux.")),

            // "For Azure government regions, both source and target location should either be in US Gov regions or
            // both should be in US DoD regions. Source US Gov and target US DoD or vice versa isn't supported."
            define("TrustedLaunchCrossCloudNotSupported", BAD_REQUEST, "000").on(ENABLE_REPLICATION).in(A2A)
                    .summary("Trusted launch VMs in Azure Government replicate only US Gov to US Gov or US DoD to US DoD.")
                    .message("Pick source and target regions that are both US Gov regions or both US DoD regions.")
                    .check(ReplicationFacts.class, f -> {
                        Region s = f.source().region();
                        Region t = f.target().region();
                        return when(f.vm().trustedLaunch() && s != null
                                        && (s.cloud().government() || t.cloud().government()) && s.cloud() != t.cloud(), () ->
                                "Trusted launch VM '" + f.vm().name() + "' would replicate from " + s.name() + " ("
                                        + s.cloud().displayName() + ") to " + t.name() + " (" + t.cloud().displayName() + ").");
                    }),

            // "Shared disks: Trusted virtual machines with attached shared disks aren't currently supported."
            define("TrustedLaunchSharedDiskNotSupported", BAD_REQUEST, "000").on(ENABLE_REPLICATION).in(A2A)
                    .summary("Trusted launch VMs with attached shared disks can't be protected.")
                    .message("Detach the shared disks from the trusted launch VM before enabling replication.")
                    .check(ReplicationFacts.class, f -> !f.vm().trustedLaunch() ? null
                            : each(f.vm().disks(), DiskFacts::shared, d -> "trusted launch VM '" + f.vm().name() + "' has shared " + d)),

            // "You can't protect Azure Trusted VMs using recovery services vault which are already created before
            // public preview and have private endpoints configured." (A new vault with private endpoints is fine.)
            define("TrustedLaunchVaultPrivateEndpointsPredatePreview", CONFLICT, "000").on(ENABLE_REPLICATION).in(A2A)
                    .summary("A vault created before the trusted launch preview and using private endpoints can't protect trusted launch VMs.")
                    .message("Create a new Recovery Services vault, configure its private endpoints, and protect the trusted launch VM with it.")
                    .check(ReplicationFacts.class, f -> when(f.vm().trustedLaunch() && f.vault().usesPrivateEndpoints()
                            && f.vault().createdBeforeTrustedLaunchPreview(), () ->
                            "Vault '" + f.vault().name() + "' has private endpoints and predates trusted launch support.")),

            // "Migration of Azure Site Recovery protected existing Generation 1 Azure VMs to trusted VMs and
            // Generation 2 Azure virtual machines to trusted VMs isn't supported." The documented way: disable
            // replication, uninstall the Site Recovery extension and Mobility service, migrate, re-enable.
            define("TrustedLaunchUpgradeOfProtectedVmNotSupported", CONFLICT, "000").on(UPDATE_VM)
                    .summary("A VM protected by Site Recovery can't be converted to trusted launch.")
                    .message("To convert it: 1) disable Site Recovery replication for the VM; 2) uninstall the Site Recovery "
                            + "agent: VM > Settings > Extensions > Site Recovery > Uninstall, then uninstall the Mobility service; "
                            + "3) convert the VM to trusted launch; 4) enable replication again. Disabling replication deletes "
                            + "the existing recovery points.")
                    .check(VmUpdateFacts.class, f -> when(f.current().protectedByAsr() && f.upgradesToTrustedLaunch(), () ->
                            "VM '" + f.current().name() + "' (generation " + f.current().generation()
                                    + ") is protected by Site Recovery and the update asks for trusted launch.")),

            // ==================== Seed 001: moving VMs between Government and public regions ====================

            // The Government/public move "treats the VMs as physical servers": Azure-to-Azure replication doesn't
            // cross between Azure Government and public regions.
            define("CrossCloudAzureToAzureNotSupported", BAD_REQUEST, "001").on(ENABLE_REPLICATION).in(A2A)
                    .summary("Azure-to-Azure replication doesn't cross between Azure Government and public regions.")
                    .message("To move VMs between Azure Government and public regions, replicate them as physical servers "
                            + "through a configuration server (scenario " + PHYSICAL_TO_AZURE.displayName() + ").")
                    .check(ReplicationFacts.class, f -> {
                        Region s = f.source().region();
                        Region t = f.target().region();
                        return when(s != null && s.cloud().government() != t.cloud().government(), () ->
                                "Source region " + s.name() + " is in " + s.cloud().displayName() + " and target region "
                                        + t.name() + " is in " + t.cloud().displayName() + ".");
                    }),

            // "Create the vault in any region, except the source region."
            define("VaultInSourceRegion", BAD_REQUEST, "001").on(ENABLE_REPLICATION).in(PHYSICAL_TO_AZURE)
                    .summary("When moving Azure VMs as physical servers, the vault must not be in the source region.")
                    .message("Use a vault in another region, normally the target region: the target network and storage account must be in the vault's region.")
                    .check(ReplicationFacts.class, f -> when(f.source().region() != null && f.source().region().equals(f.vault().region()), () ->
                            "Vault '" + f.vault().name() + "' is in " + f.vault().region().name() + ", the source region of VM '" + f.vm().name() + "'.")),

            // Seed 004: "Storage accounts must be in the same region as the vault." Seed 001: "The storage account
            // must be in the same region as the Recovery Services vault."
            define("TargetStorageNotInVaultRegion", BAD_REQUEST, "004", "001").on(ENABLE_REPLICATION).in(VAULT_REGION_TARGETS)
                    .summary("Target storage accounts must be in the vault's region.")
                    .message("Choose target storage accounts in the vault's region, or leave them out and let Site Recovery create them there.")
                    .check(ReplicationFacts.class, f -> each(f.target().storageAccounts(),
                            s -> !s.region().equals(f.vault().region()),
                            s -> "storage account '" + s.id() + "' is in " + s.region().name() + ", the vault is in " + f.vault().region().name())),

            // Seed 004: "Network accounts must be in the same region as the vault." Seed 001: "The network should
            // be in the same region as the Recovery Services vault."
            define("TargetNetworkNotInVaultRegion", BAD_REQUEST, "004", "001")
                    .on(ENABLE_REPLICATION, UPDATE_PROTECTED_ITEM, TEST_FAILOVER, FAILOVER).in(VAULT_REGION_TARGETS)
                    .summary("Target (and test failover) networks must be in the vault's region.")
                    .message("Choose a virtual network in the vault's region, or leave it out and let Site Recovery create one.")
                    .check(ReplicationFacts.class, f -> each(f.target().networks(),
                            n -> !n.region().equals(f.vault().region()),
                            n -> "network '" + n.id() + "' is in " + n.region().name() + ", the vault is in " + f.vault().region().name())),

            // "Set up an Azure storage account ... Site Recovery replicates on-premises machines to Azure storage."
            // "Site Recovery checks that you have one or more compatible Azure storage accounts and networks."
            define("TargetStorageAccountRequired", BAD_REQUEST, "001").on(ENABLE_REPLICATION).in(CONFIG_SERVER)
                    .summary("Replication through a configuration server needs a target storage account.")
                    .message("Create a storage account in the vault's region and select it as the target storage.")
                    .check(ReplicationFacts.class, f -> when(f.target().storageAccounts().isEmpty(), () ->
                            "No target storage account was selected for '" + f.vm().name() + "'.")),

            // "Set up the configuration server, register it in the vault" before enabling replication.
            define("ConfigurationServerNotRegistered", CONFLICT, "001").on(ENABLE_REPLICATION).in(CONFIG_SERVER)
                    .summary("A configuration server must be registered in the vault before replication is enabled.")
                    .message("Set up the configuration server with Unified Setup and register it in the vault, then enable replication.")
                    .check(ReplicationFacts.class, f -> when(!f.source().configurationServerRegistered(), () ->
                            "Vault '" + f.vault().name() + "' has no registered configuration server.")),

            // "Recovery point retention: Up to 24 hours ... premium storage, and 72 hours for standard storage."
            define("PolicyRetentionTooLong", BAD_REQUEST, "001").on(CREATE_POLICY, UPDATE_POLICY).in(CONFIG_SERVER)
                    .summary("Recovery point retention is at most 72 hours.")
                    .message("Set a recovery point retention of " + Limits.RETENTION_MAX_STANDARD.toHours() + " hours or less.")
                    .check(PolicyFacts.class, f -> when(f.retention().compareTo(Limits.RETENTION_MAX_STANDARD) > 0, () ->
                            "Policy '" + f.name() + "' keeps recovery points for " + hours(f.retention()) + ".")),

            // Same sentence: machines replicated to premium storage get at most 24 hours.
            define("PremiumStorageRetentionTooLong", BAD_REQUEST, "001").on(ENABLE_REPLICATION, UPDATE_PROTECTED_ITEM).in(CONFIG_SERVER)
                    .summary("Machines replicated to premium storage keep recovery points for at most 24 hours.")
                    .message("Use a policy with " + Limits.RETENTION_MAX_PREMIUM.toHours() + " hours of retention or less, or a standard storage account.")
                    .check(ReplicationFacts.class, f -> each(f.target().storageAccounts(),
                            s -> s.sku().premium() && f.policy().retention().compareTo(Limits.RETENTION_MAX_PREMIUM) > 0,
                            s -> "premium storage account '" + s.id() + "' with policy '" + f.policy().name() + "' keeping "
                                    + hours(f.policy().retention()))),

            // "For Windows virtual machines, if you're not using a domain account, disable Remote User Access control
            // on the local machine ... LocalAccountTokenFilterPolicy, with a value of 1."
            define("MobilityServiceAccountRemoteUacEnabled", BAD_REQUEST, "001").on(ENABLE_REPLICATION).in(CONFIG_SERVER)
                    .summary("Push-installing the Mobility service with a local Windows account needs remote UAC disabled.")
                    .message("Use a domain account, or on the machine run: REG ADD HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\"
                            + "CurrentVersion\\Policies\\System /v LocalAccountTokenFilterPolicy /t REG_DWORD /d 1")
                    .check(ReplicationFacts.class, f -> {
                        InstallAccount a = f.source().installAccount();
                        return when(a != null && f.vm().osType() == WINDOWS && !a.domainAccount() && !a.localAccountTokenFilterPolicy(), () ->
                                "Local account '" + a.userName() + "' on '" + f.vm().name() + "' is subject to remote UAC filtering.");
                    }),

            // "For Linux, use the root account on the source Linux server."
            define("MobilityServiceAccountNotRoot", BAD_REQUEST, "001").on(ENABLE_REPLICATION).in(CONFIG_SERVER)
                    .summary("Push-installing the Mobility service on Linux needs the root account.")
                    .message("Give the process server the root account of the Linux server.")
                    .check(ReplicationFacts.class, f -> {
                        InstallAccount a = f.source().installAccount();
                        return when(a != null && f.vm().osType() == LINUX && !a.root(), () ->
                                "Account '" + a.userName() + "' on Linux server '" + f.vm().name() + "' is not root.");
                    }),

            // "Download the vault registration key ... The key is valid for five days after you generate it."
            define("RegistrationKeyExpired", BAD_REQUEST, "001").on(REGISTER_SERVER)
                    .summary("A vault registration key is valid for 5 days after it is generated.")
                    .message("Download a new vault registration key and run setup again with it.")
                    .check(ServerRegistrationFacts.class, f -> when(f.now().isAfter(f.keyIssuedAt().plus(Limits.REGISTRATION_KEY_VALIDITY)), () ->
                            "The registration key was generated at " + f.keyIssuedAt() + " and expired at "
                                    + f.keyIssuedAt().plus(Limits.REGISTRATION_KEY_VALIDITY) + ".")),

            // "Make sure that the system clock is synchronized with a Time Server ... If the system clock is 15
            // minutes ahead or behind, setup might fail."
            define("ServerClockSkewTooLarge", BAD_REQUEST, "001").on(REGISTER_SERVER)
                    .summary("A registering server's clock must be within 15 minutes of the service's.")
                    .message("Synchronize the server's clock with a time server, then register it again.")
                    .check(ServerRegistrationFacts.class, f -> when(f.clockSkew().compareTo(Limits.MAX_CLOCK_SKEW) >= 0, () ->
                            "The server's clock is " + minutes(f.clockSkew()) + (f.serverClock().isAfter(f.now()) ? " ahead." : " behind."))),

            // "Run Unified Setup as a Local Administrator, to install the configuration server."
            define("ConfigurationServerSetupNotAdministrator", BAD_REQUEST, "001").on(REGISTER_SERVER)
                    .summary("Configuration server setup must run as a local administrator.")
                    .message("Run Unified Setup again as a local administrator.")
                    .check(ServerRegistrationFacts.class, f -> when(f.type() == CONFIGURATION_SERVER && !f.runAsAdministrator(), () ->
                            "Configuration server setup ran without local administrator rights.")),

            // "Use a separate Azure virtual machine network for the test failover. Don't use the production network."
            define("TestFailoverNetworkIsProductionNetwork", BAD_REQUEST, "001").on(TEST_FAILOVER)
                    .summary("A test failover must use a network other than the production (recovery) network.")
                    .message("Pick a separate, non-production virtual network for the test failover.")
                    .check(ReplicationFacts.class, f -> {
                        NetworkFacts test = f.target().testNetwork();
                        return when(test != null && test.sameNetworkAs(f.target().network()), () ->
                                "Test network '" + test.id() + "' is the production network of '" + f.vm().name() + "'.");
                    }),

            // "After you fail over to the target region in Azure, you can't directly perform a fail back to the
            // source region. You have to set up replication again back to the target."
            define("ReprotectAfterMoveNotSupported", CONFLICT, "001").on(REPROTECT).in(PHYSICAL_TO_AZURE)
                    .summary("An Azure VM moved as a physical server can't be reprotected back to its source region.")
                    .message("Enable replication again for the VM in its new region to protect it back to the source region.")
                    .check(ReplicationFacts.class, f -> when(f.source().region() != null, () ->
                            "VM '" + f.vm().name() + "' was moved from Azure region " + f.source().region().name() + ".")),

            // ======================= Seed 004: before replicating Azure VMs to another region =======================

            // "You can't replicate to premium accounts in Central and South India." (Regions.premiumReplication)
            define("PremiumReplicationNotAvailableInRegion", BAD_REQUEST, "004").on(ENABLE_REPLICATION)
                    .summary("No replication to premium storage accounts in regions without premium replication (Central and South India).")
                    .message("Use a standard storage account in that region, or replicate to a region that supports premium storage.")
                    .check(ReplicationFacts.class, f -> each(f.target().storageAccounts(),
                            s -> s.sku().premium() && !s.region().premiumReplication(),
                            s -> "premium storage account '" + s.id() + "' is in " + s.region().name())),

            // "Your Azure subscription should be enabled to create VMs, in the target location ... Contact support."
            define("TargetRegionNotEnabledForVms", CONFLICT, "004", "001").on(ENABLE_REPLICATION, TEST_FAILOVER, FAILOVER)
                    .summary("The subscription must be allowed to create VMs in the target region.")
                    .message("Enable the subscription to create VMs in the target region (ask for the quota), then try again.")
                    .check(ReplicationFacts.class, f -> when(!f.target().capacity().vmCreationEnabled(), () ->
                            "The subscription can't create VMs in " + f.target().region().name() + ".")),

            // "In the target Azure region, the subscription should have enough capacity" / "enough resources to
            // enable VMs with sizes that match your source VMs."
            define("InsufficientTargetQuota", CONFLICT, "004", "001").on(ENABLE_REPLICATION, TEST_FAILOVER, FAILOVER)
                    .summary("The target region's vCPU quota must cover the target VM size.")
                    .message("Raise the vCPU quota in the target region, or free some, then try again.")
                    .check(ReplicationFacts.class, f -> {
                        int needed = TargetSizes.pick(f.vm().size(), f.target().capacity().availableSizes())
                                .map(VmSize::cores).orElse(f.vm().cores());
                        int available = f.target().capacity().vCpusAvailable();
                        return when(needed > available, () -> "VM '" + f.vm().name() + "' needs " + needed + " vCPUs in "
                                + f.target().region().name() + "; the quota has " + available + " left.");
                    }),

            // "Site Recovery picks the same size for the target VM, or the closest possible size."
            define("TargetVmSizeNotAvailable", CONFLICT, "004", "001").on(ENABLE_REPLICATION, TEST_FAILOVER, FAILOVER)
                    .summary("The target region must offer the source VM's size or a close size at least as large.")
                    .message("Replicate to a region that offers a size with at least the VM's vCPUs and memory, or resize the source VM.")
                    .check(ReplicationFacts.class, f -> when(TargetSizes.pick(f.vm().size(), f.target().capacity().availableSizes()).isEmpty(), () ->
                            "No size in " + f.target().region().name() + " matches or exceeds " + f.vm().size() + " of VM '" + f.vm().name() + "'.")),

            // "Make sure all of the latest root certificates are on the Windows/Linux Azure VM. If they're not, you
            // won't be able to register the VM in Site Recovery."
            define("VmRootCertificatesOutdated", BAD_REQUEST, "004").on(ENABLE_REPLICATION).in(A2A)
                    .summary("The VM must have the latest trusted root certificates.")
                    .message("Windows: install the latest Windows updates (in a disconnected environment, use your certificate "
                            + "update process). Linux: get the latest trusted root certificates and CRL as your distributor describes.")
                    .check(ReplicationFacts.class, f -> when(!f.vm().latestRootCertificates(), () ->
                            "VM '" + f.vm().name() + "' lacks the latest trusted root certificates.")),

            // "You need to allow outbound connectivity from Azure VMs, for specific URLs/IP ranges."
            define("SiteRecoveryOutboundConnectivityBlocked", BAD_REQUEST, "004").on(ENABLE_REPLICATION).in(A2A)
                    .summary("The VM needs outbound access to the Site Recovery URLs / IP ranges.")
                    .message("Allow outbound HTTPS (443) from the VM to Site Recovery, storage and Microsoft Entra ID endpoints (NSG rules, firewall, proxy).")
                    .check(ReplicationFacts.class, f -> when(!f.source().outboundConnectivity(), () ->
                            "VM '" + f.vm().name() + "' can't reach Site Recovery outbound.")),

            // ================================= Seed 003: private endpoints =================================

            // "Private endpoints can be created only for new Recovery Services vaults that don't have any items
            // registered to the vault ... must be created before any items are added to the vault."
            define("PrivateEndpointRequiresNewVault", CONFLICT, "003").on(CREATE_PRIVATE_ENDPOINT)
                    .summary("Vault private endpoints can be created only while nothing is registered to the vault.")
                    .message("Create a new vault and add its private endpoints before registering any servers or protecting any items.")
                    .check(PrivateEndpointFacts.class, f -> when(f.target() == PrivateEndpointFacts.Target.VAULT && f.vault().registeredItems() > 0, () ->
                            "Vault '" + f.vault().name() + "' has " + f.vault().registeredItems() + " registered item(s).")),

            // "Enable the managed identity for the vault" first: "Managed identity access is essential when you're
            // using private links service for the vault" (system-assigned: Identity > Status On).
            define("VaultSystemAssignedIdentityRequired", CONFLICT, "003").on(CREATE_PRIVATE_ENDPOINT)
                    .summary("The vault needs a system-assigned managed identity before private endpoints are created.")
                    .message("Turn on the vault's system-assigned managed identity (Identity > Status: On), then create the private endpoint.")
                    .check(PrivateEndpointFacts.class, f -> when(f.target() == PrivateEndpointFacts.Target.VAULT && !f.vault().identity().systemAssigned(), () ->
                            "Vault '" + f.vault().name() + "' has no system-assigned identity.")),

            // "Private endpoint for Recovery Services only supports dynamic IP addresses. Static IP addresses are not supported."
            define("PrivateEndpointStaticIpNotSupported", BAD_REQUEST, "003").on(CREATE_PRIVATE_ENDPOINT)
                    .summary("Vault private endpoints support only dynamic IP addresses.")
                    .message("Create the private endpoint with dynamic IP allocation.")
                    .check(PrivateEndpointFacts.class, f -> when(f.target() == PrivateEndpointFacts.Target.VAULT
                            && f.ipAllocation() == PrivateEndpointFacts.IpAllocation.STATIC, () ->
                            "The private endpoint for vault '" + f.vault().name() + "' asks for static IP addresses.")),

            // "At least nine IP addresses are required in the subnets of both your source machines and your recovery
            // machines." "One additional IP address is required in both ... only when you need to use private
            // endpoints connecting to cache storage accounts."
            define("InsufficientSubnetIpsForPrivateEndpoint", BAD_REQUEST, "003").on(CREATE_PRIVATE_ENDPOINT)
                    .summary("Source and recovery subnets need 9 free IPs each (10 with a cache storage private endpoint).")
                    .message("Free IP addresses in the subnet or pick a larger subnet.")
                    .check(PrivateEndpointFacts.class, f -> {
                        if (f.target() != PrivateEndpointFacts.Target.VAULT) return null;
                        int needed = Limits.privateEndpointFreeIps(f.cacheStoragePrivateEndpoint());
                        List<String> parts = new ArrayList<>();
                        if (f.sourceSubnet() != null && f.sourceSubnet().freeIps() < needed) {
                            parts.add("source subnet '" + f.sourceSubnet().id() + "' has " + f.sourceSubnet().freeIps() + " free IPs, " + needed + " are needed");
                        }
                        if (f.recoverySubnet() != null && f.recoverySubnet().freeIps() < needed) {
                            parts.add("recovery subnet '" + f.recoverySubnet().id() + "' has " + f.recoverySubnet().freeIps() + " free IPs, " + needed + " are needed");
                        }
                        return sentence(parts);
                    }),

            // "Further, when you enable the replication, it adds two additional private links for the source and target
            // region pairing" -- two more addresses from the subnet of every approved vault endpoint, which is why
            // "at least nine IP addresses are required" there.
            define("InsufficientSubnetIpsForReplicationPrivateLinks", BAD_REQUEST, "003").on(ADD_REPLICATION_PRIVATE_LINKS)
                    .summary("Enabling replication adds two private links to each vault private endpoint; its subnet needs the addresses.")
                    .message("Free IP addresses in the private endpoint's subnet (a vault endpoint's subnet needs at least "
                            + Limits.privateEndpointFreeIps(false) + " free IPs before the endpoint is created, "
                            + Limits.privateEndpointFreeIps(true) + " with a cache storage private endpoint), then enable replication again.")
                    .check(ReplicationLinkFacts.class, f -> each(f.subnets(), n -> n.subnet().freeIps() < n.addresses(),
                            n -> "subnet '" + n.subnet().id() + "' has " + n.subnet().freeIps() + " free IP(s), and private endpoint(s) "
                                    + n.endpoints() + " of vault '" + f.vaultName() + "' need " + n.addresses() + " for the "
                                    + f.source().name() + " -> " + f.target().name() + " pairing")),

            // "Private endpoints for storage can only be created on General Purpose v2 type."
            define("StoragePrivateEndpointRequiresGeneralPurposeV2", BAD_REQUEST, "003").on(CREATE_PRIVATE_ENDPOINT)
                    .summary("Storage private endpoints for Site Recovery need a general-purpose v2 account.")
                    .message("Use (or upgrade to) a general-purpose v2 (StorageV2) storage account.")
                    .check(PrivateEndpointFacts.class, f -> when(f.target() == PrivateEndpointFacts.Target.STORAGE
                            && f.storage().kind() != StorageAccountFacts.Kind.STORAGE_V2, () ->
                            "Storage account '" + f.storage().id() + "' is of kind " + f.storage().kind().armName() + ".")),

            // "Ensure that you choose to create a new DNS zone for every new private endpoint connecting to the same
            // vault. If you choose an existing private DNS zone, the previous CNAME records are overwritten."
            define("PrivateDnsZoneAlreadyUsedByVault", CONFLICT, "003").on(CREATE_PRIVATE_ENDPOINT, LINK_PRIVATE_DNS_ZONE)
                    .summary("Each private endpoint of a vault needs its own private DNS zone.")
                    .message("Create a new private DNS zone for this private endpoint; reusing the zone would overwrite the other endpoint's records.")
                    .check(PrivateEndpointFacts.class, f -> when(f.target() == PrivateEndpointFacts.Target.VAULT && f.dnsZoneUsedByVaultEndpoint(), () ->
                            "The chosen DNS zone already holds records of another private endpoint of vault '" + f.vault().name() + "'.")),

            // "Before enabling replication ... the managed identity of the vault must have the following role
            // permissions depending on the type of storage account" (cache only for managed disks; source, cache
            // and target for unmanaged disks).
            define("VaultIdentityMissingStorageRoles", CONFLICT, "003").on(ENABLE_REPLICATION)
                    .summary("With private endpoints, the vault identity needs roles on the storage accounts replication uses.")
                    .message("Assign the listed roles to the vault's system-assigned identity on each storage account "
                            + "(Access control (IAM) > Add role assignment > Managed identity), then enable replication.")
                    .check(ReplicationFacts.class, f -> each(PrivateLink.accountsNeedingVaultRoles(f),
                            s -> !PrivateLink.missingVaultRoles(s).isEmpty(),
                            s -> "storage account '" + s.id() + "' lacks " + PrivateLink.missingVaultRoles(s).stream()
                                    .map(r -> "'" + r.roleName() + "'").collect(Collectors.joining(" and ")))),

            // "In addition to these permissions, you need to allow access to Microsoft trusted services"
            // (Firewalls and virtual networks > Exceptions).
            define("TrustedMicrosoftServicesNotAllowed", CONFLICT, "003").on(ENABLE_REPLICATION)
                    .summary("With private endpoints, firewalled storage accounts must allow trusted Microsoft services.")
                    .message("On each storage account, under Firewalls and virtual networks > Exceptions, select "
                            + "'Allow trusted Microsoft services to access this storage account'.")
                    .check(ReplicationFacts.class, f -> each(PrivateLink.accountsNeedingVaultRoles(f),
                            s -> s.firewallEnabled() && !s.trustedServicesAllowed(),
                            s -> "storage account '" + s.id() + "' doesn't allow trusted Microsoft services")),

            // ============================ Seed 002: Hyper-V to Azure support matrix ============================

            // "VM name: Between 1 and 63 characters. Restricted to letters, numbers, and hyphens. The VM name must
            // start and end with a letter or number." "Update the value in the VM properties in Site Recovery."
            define("HyperVVmNameInvalid", BAD_REQUEST, "002").on(ENABLE_REPLICATION, UPDATE_PROTECTED_ITEM).in(HYPERV_TO_AZURE)
                    .summary("The VM name is 1-63 letters, numbers and hyphens, starting and ending with a letter or number.")
                    .message("Set a valid recovery VM name in the protected item's compute properties.")
                    .check(ReplicationFacts.class, f -> vmNameProblem(f.effectiveRecoveryVmName())),

            // "Operating system disk count: 1."
            define("HyperVOsDiskCountInvalid", BAD_REQUEST, "002").on(ENABLE_REPLICATION).in(HYPERV_TO_AZURE)
                    .summary("A VM has exactly one OS disk.")
                    .message("Mark exactly one of the VM's disks as the OS disk.")
                    .check(ReplicationFacts.class, f -> when(f.vm().osDisks().size() != Limits.HYPERV_OS_DISK_COUNT, () ->
                            "VM '" + f.vm().name() + "' has " + f.vm().osDisks().size() + " OS disks.")),

            // "Operating system disk size: Up to 2 TB for generation 1 VMs. Up to 4 TB for generation 2 VMs."
            define("HyperVOsDiskTooLarge", BAD_REQUEST, "002").on(ENABLE_REPLICATION).in(HYPERV_TO_AZURE)
                    .summary("The OS disk is at most 2 TB (generation 1) or 4 TB (generation 2).")
                    .message("Shrink the OS disk below the limit before enabling replication.")
                    .check(ReplicationFacts.class, f -> {
                        long max = f.vm().generation() == 1 ? Limits.HYPERV_OS_DISK_MAX_GEN1 : Limits.HYPERV_OS_DISK_MAX_GEN2;
                        return each(f.vm().osDisks(), d -> d.sizeBytes() > max, d -> d + " is " + Limits.bytes(d.sizeBytes())
                                + "; generation " + f.vm().generation() + " VMs allow up to " + Limits.bytes(max));
                    }),

            // "Data disk count: 16 or less."
            define("HyperVTooManyDataDisks", BAD_REQUEST, "002").on(ENABLE_REPLICATION).in(HYPERV_TO_AZURE)
                    .summary("At most 16 data disks replicate.")
                    .message("Exclude data disks from replication until 16 or fewer remain.")
                    .check(ReplicationFacts.class, f -> when(f.vm().dataDisks().size() > Limits.HYPERV_DATA_DISKS_MAX, () ->
                            "VM '" + f.vm().name() + "' replicates " + f.vm().dataDisks().size() + " data disks.")),

            // "Data disk VHD size: Up to 32 TB."
            define("HyperVDataDiskTooLarge", BAD_REQUEST, "002").on(ENABLE_REPLICATION).in(HYPERV_TO_AZURE)
                    .summary("A data disk is at most 32 TB.")
                    .message("Exclude the disk from replication or shrink it to 32 TiB or less.")
                    .check(ReplicationFacts.class, f -> each(f.vm().dataDisks(), d -> d.sizeBytes() > Limits.HYPERV_DATA_DISK_MAX,
                            d -> d + " is " + Limits.bytes(d.sizeBytes()))),

            // "Disk >1 TB: Yes, up to 32 TB. You will need to upgrade the replication provider on the Hyper-V host
            // to any version after 2.0.9214.0 to replicate large disks."
            define("HyperVLargeDiskProviderTooOld", CONFLICT, "002").on(ENABLE_REPLICATION).in(HYPERV_TO_AZURE)
                    .summary("Disks over 1 TB need a Site Recovery provider later than 2.0.9214.0.")
                    .message("Upgrade the Site Recovery provider on the Hyper-V host (or VMM server) to a version after "
                            + Limits.HYPERV_LARGE_DISK_PROVIDER_AFTER + ".")
                    .check(ReplicationFacts.class, f -> Versions.isAfter(f.source().providerVersion(), Limits.HYPERV_LARGE_DISK_PROVIDER_AFTER) ? null
                            : each(f.vm().replicatedDisks(), d -> d.sizeBytes() > Limits.HYPERV_LARGE_DISK, d -> d + " is "
                                    + Limits.bytes(d.sizeBytes()) + " and the provider is " + Objects.requireNonNullElse(f.source().providerVersion(), "of unknown version"))),

            // "For large disks, replication will happen to managed disks only." Also: "Encryption at rest (CMK) /
            // Double encryption at rest (Only for failover to managed disks)" is HyperVCustomerKeyRequiresManagedDisks.
            define("HyperVLargeDiskRequiresManagedDisks", BAD_REQUEST, "002").on(ENABLE_REPLICATION).in(HYPERV_TO_AZURE)
                    .summary("Disks over 1 TB replicate to managed disks only.")
                    .message("Choose failover to managed disks.")
                    .check(ReplicationFacts.class, f -> f.target().managedDisks() ? null
                            : each(f.vm().replicatedDisks(), d -> d.sizeBytes() > Limits.HYPERV_LARGE_DISK,
                                    d -> d + " is " + Limits.bytes(d.sizeBytes()) + " and the target is storage-account VHDs")),

            // "Shared VHD: Not supported." "Shared cluster disk: No."
            define("HyperVSharedDiskNotSupported", BAD_REQUEST, "002").on(ENABLE_REPLICATION).in(HYPERV_TO_AZURE)
                    .summary("Shared VHDs / shared cluster disks don't replicate.")
                    .message("Exclude the shared disks from replication.")
                    .check(ReplicationFacts.class, f -> each(f.vm().replicatedDisks(), DiskFacts::shared, d -> d + " is shared")),

            // "FC disk: Not supported."
            define("HyperVFibreChannelDiskNotSupported", BAD_REQUEST, "002").on(ENABLE_REPLICATION).in(HYPERV_TO_AZURE)
                    .summary("Fibre Channel disks don't replicate.")
                    .message("Exclude the Fibre Channel disks from replication.")
                    .check(ReplicationFacts.class, f -> each(f.vm().replicatedDisks(), DiskFacts::fibreChannel, d -> d + " is a Fibre Channel disk")),

            // "BitLocker: Not supported. BitLocker must be disabled before you enable replication for a VM."
            define("HyperVBitLockerNotSupported", BAD_REQUEST, "002").on(ENABLE_REPLICATION).in(HYPERV_TO_AZURE)
                    .summary("BitLocker must be off on replicated disks.")
                    .message("Turn off BitLocker in the guest, then enable replication.")
                    .check(ReplicationFacts.class, f -> each(f.vm().replicatedDisks(), DiskFacts::bitLocker, d -> d + " has BitLocker on")),

            // "Encrypted disk: No."
            define("HyperVEncryptedDiskNotSupported", BAD_REQUEST, "002").on(ENABLE_REPLICATION).in(HYPERV_TO_AZURE)
                    .summary("Encrypted disks don't replicate.")
                    .message("Decrypt the disks or exclude them from replication.")
                    .check(ReplicationFacts.class, f -> each(f.vm().replicatedDisks(), DiskFacts::encrypted, d -> d + " is encrypted")),

            // "Disk: 4K logical and physical sector: Not supported: Gen 1/Gen 2." (4K logical / 512 physical is fine.)
            define("HyperV4KNativeDiskNotSupported", BAD_REQUEST, "002").on(ENABLE_REPLICATION).in(HYPERV_TO_AZURE)
                    .summary("Disks with 4K logical and 4K physical sectors don't replicate.")
                    .message("Use a disk with 512-byte logical sectors (512e), or exclude the disk from replication.")
                    .check(ReplicationFacts.class, f -> each(f.vm().replicatedDisks(), DiskFacts::fourKNative, d -> d + " has 4K logical and physical sectors")),

            // "Hard disk format: VHD, VHDX." (VMDK and RDM are "NA"; pass-through disks have no VHD.)
            define("HyperVDiskFormatNotSupported", BAD_REQUEST, "002").on(ENABLE_REPLICATION).in(HYPERV_TO_AZURE)
                    .summary("Replicated disks are VHD or VHDX.")
                    .message("Convert the disk to VHD or VHDX, or exclude it from replication.")
                    .check(ReplicationFacts.class, f -> each(f.vm().replicatedDisks(),
                            d -> d.format() != DiskFacts.Format.VHD && d.format() != DiskFacts.Format.VHDX,
                            d -> d + " is " + d.format())),

            // "Logical volume management (LVM). LVM is supported on data disks only. Azure provides only a single OS disk."
            define("HyperVLvmOnOsDiskNotSupported", BAD_REQUEST, "002").on(ENABLE_REPLICATION).in(HYPERV_TO_AZURE)
                    .summary("LVM is supported on data disks only.")
                    .message("Move the OS off LVM (LVM may stay on data disks).")
                    .check(ReplicationFacts.class, f -> each(f.vm().osDisks(), d -> d.has(DiskFacts.Trait.LVM), d -> d + " uses LVM")),

            // "Storage Spaces / Storage Spaces Direct (S2D): No."
            define("HyperVStorageSpacesNotSupported", BAD_REQUEST, "002").on(ENABLE_REPLICATION).in(HYPERV_TO_AZURE)
                    .summary("Disks in Storage Spaces / Storage Spaces Direct don't replicate.")
                    .message("Exclude the Storage Spaces disks from replication.")
                    .check(ReplicationFacts.class, f -> each(f.vm().replicatedDisks(), d -> d.has(DiskFacts.Trait.STORAGE_SPACES),
                            d -> d + " is part of Storage Spaces")),

            // "Striped volumes and dynamic disks are not supported for app-consistent snapshots. Ensure that the
            // frequency for app-consistent snapshot is set to zero in the selected replication policy."
            define("HyperVDynamicDiskRequiresCrashConsistentPolicy", BAD_REQUEST, "002").on(ENABLE_REPLICATION, UPDATE_PROTECTED_ITEM).in(HYPERV_TO_AZURE)
                    .summary("VMs with dynamic disks or striped volumes need an app-consistent snapshot frequency of 0.")
                    .message("Use a replication policy whose app-consistent snapshot frequency is 0.")
                    .check(ReplicationFacts.class, f -> !f.policy().appConsistent() ? null
                            : each(f.vm().replicatedDisks(), DiskFacts::dynamic, d -> d + " is a dynamic disk / striped volume and policy '"
                                    + f.policy().name() + "' takes app-consistent snapshots every " + minutes(f.policy().appConsistentFrequency()))),

            // "Windows Server 2016 Nano Server isn't supported."
            define("HyperVNanoServerNotSupported", BAD_REQUEST, "002").on(ENABLE_REPLICATION).in(HYPERV_TO_AZURE)
                    .summary("Nano Server guests can't be protected.")
                    .message("Protect VMs running a full or Server Core installation instead.")
                    .check(ReplicationFacts.class, f -> when(f.vm().nanoServer(), () ->
                            "VM '" + f.vm().name() + "' runs " + f.vm().osName() + ".")),

            // "Guest operating system architecture: 32-bit (Windows Server 2008)/64-bit."
            define("HyperVGuestArchitectureNotSupported", BAD_REQUEST, "002").on(ENABLE_REPLICATION).in(HYPERV_TO_AZURE)
                    .summary("Guests are 64-bit; 32-bit only for Windows Server 2008.")
                    .message("Protect a 64-bit guest (32-bit is supported only on Windows Server 2008).")
                    .check(ReplicationFacts.class, f -> when(f.vm().architecture() == VmFacts.Architecture.X86
                            && f.vm().windowsServerRelease().orElse(null) != Limits.HYPERV_32BIT_WINDOWS_SERVER, () ->
                            "VM '" + f.vm().name() + "' is a 32-bit " + Objects.requireNonNullElse(f.vm().osName(), f.vm().osType().name()) + " guest.")),

            // "UEFI Secure boot: No."
            define("HyperVSecureBootNotSupported", BAD_REQUEST, "002").on(ENABLE_REPLICATION).in(HYPERV_TO_AZURE)
                    .summary("UEFI Secure Boot isn't supported.")
                    .message("Turn off Secure Boot in the VM's firmware settings on the Hyper-V host, then enable replication.")
                    .check(ReplicationFacts.class, f -> when(f.vm().secureBoot(), () ->
                            "VM '" + f.vm().name() + "' has Secure Boot on.")),

            // "VM type: Generation 2 VMs with an OS disk type of basic (which includes one or two data volumes
            // formatted as VHDX) and less than 2 TB of disk space are supported."
            define("HyperVGen2OsDiskNotBasic", BAD_REQUEST, "002").on(ENABLE_REPLICATION).in(HYPERV_TO_AZURE)
                    .summary("A generation 2 VM's OS disk is a basic disk.")
                    .message("Convert the OS disk to a basic disk before enabling replication.")
                    .check(ReplicationFacts.class, f -> f.vm().generation() != 2 ? null
                            : each(f.vm().osDisks(), DiskFacts::dynamic, d -> d + " of generation 2 VM '" + f.vm().name() + "' is a dynamic disk")),

            // "EFI/UEFI: ... The OS disk should have up to five partitions or fewer."
            define("HyperVGen2OsDiskTooManyPartitions", BAD_REQUEST, "002").on(ENABLE_REPLICATION).in(HYPERV_TO_AZURE)
                    .summary("A generation 2 (UEFI) VM's OS disk has at most five partitions.")
                    .message("Reduce the OS disk to five partitions or fewer.")
                    .check(ReplicationFacts.class, f -> f.vm().generation() != 2 ? null
                            : each(f.vm().osDisks(), d -> d.partitions() > Limits.HYPERV_GEN2_OS_PARTITIONS_MAX,
                                    d -> d + " has " + d.partitions() + " partitions")),

            // "EFI/UEFI: ... The VM should be running Windows Server 2012 and later only."
            define("HyperVGen2GuestOsNotSupported", BAD_REQUEST, "002").on(ENABLE_REPLICATION).in(HYPERV_TO_AZURE)
                    .summary("A generation 2 (UEFI) Windows Server guest runs Windows Server 2012 or later.")
                    .message("Upgrade the guest to Windows Server 2012 or later.")
                    .check(ReplicationFacts.class, f -> {
                        Optional<ServerRelease> r = f.vm().windowsServerRelease();
                        return when(f.vm().generation() == 2 && r.isPresent() && r.get().compareTo(Limits.HYPERV_GEN2_MIN_WINDOWS_SERVER) < 0, () ->
                                "Generation 2 VM '" + f.vm().name() + "' runs Windows Server " + r.get().label() + ".");
                    }),

            // "Guest VM network: NIC Teaming: No."
            define("HyperVGuestNicTeamingNotSupported", BAD_REQUEST, "002").on(ENABLE_REPLICATION).in(HYPERV_TO_AZURE)
                    .summary("NIC teaming inside the guest isn't supported.")
                    .message("Remove the NIC team in the guest before enabling replication.")
                    .check(ReplicationFacts.class, f -> each(f.vm().nics(), NicFacts::teamed, n -> "adapter '" + n.name() + "' is teamed")),

            // "Guest VM network: IPv6: No (with Virtual Machine Manager) / Yes (without)."
            define("HyperVGuestIpv6NotSupportedWithVmm", BAD_REQUEST, "002").on(ENABLE_REPLICATION).in(HYPERV_TO_AZURE)
                    .summary("With VMM, guest IPv6 isn't supported.")
                    .message("Use IPv4 in the guest, or protect it from a Hyper-V host not managed by VMM.")
                    .check(ReplicationFacts.class, f -> !f.source().vmmManaged() ? null
                            : each(f.vm().nics(), NicFacts::ipv6, n -> "adapter '" + n.name() + "' uses IPv6 and the host is managed by VMM")),

            // "Automatic Private IP Addressing (APIPA): No."
            define("HyperVApipaAddressNotSupported", BAD_REQUEST, "002").on(ENABLE_REPLICATION).in(HYPERV_TO_AZURE)
                    .summary("Adapters with an APIPA (169.254.x.x) address aren't supported.")
                    .message("Give the adapter a DHCP or static address instead of an APIPA one.")
                    .check(ReplicationFacts.class, f -> each(f.vm().nics(), NicFacts::apipa, n -> "adapter '" + n.name() + "' has APIPA address " + n.ipv4Address())),

            // "Zone-redundant storage: No."
            define("HyperVZoneRedundantStorageNotSupported", BAD_REQUEST, "002").on(ENABLE_REPLICATION).in(HYPERV_TO_AZURE)
                    .summary("Zone-redundant storage accounts can't be targets.")
                    .message("Use a locally redundant, geo-redundant or read-access geo-redundant storage account.")
                    .check(ReplicationFacts.class, f -> each(f.target().storageAccounts(), s -> s.sku().zoneRedundant(),
                            s -> "storage account '" + s.id() + "' is " + s.sku().armName())),

            // "Cool storage: No."
            define("HyperVCoolStorageNotSupported", BAD_REQUEST, "002").on(ENABLE_REPLICATION).in(HYPERV_TO_AZURE)
                    .summary("Storage accounts with the cool access tier can't be targets.")
                    .message("Use a storage account without an access tier (general-purpose v1 or premium).")
                    .check(ReplicationFacts.class, f -> each(f.target().storageAccounts(), s -> s.accessTier() == StorageAccountFacts.AccessTier.COOL,
                            s -> "storage account '" + s.id() + "' uses the cool access tier")),

            // "Hot storage: No."
            define("HyperVHotStorageNotSupported", BAD_REQUEST, "002").on(ENABLE_REPLICATION).in(HYPERV_TO_AZURE)
                    .summary("Storage accounts with the hot access tier can't be targets.")
                    .message("Use a storage account without an access tier (general-purpose v1 or premium).")
                    .check(ReplicationFacts.class, f -> each(f.target().storageAccounts(), s -> s.accessTier() == StorageAccountFacts.AccessTier.HOT,
                            s -> "storage account '" + s.id() + "' uses the hot access tier")),

            // "Block blobs: No." (Replication writes page blobs.)
            define("HyperVBlockBlobStorageNotSupported", BAD_REQUEST, "002").on(ENABLE_REPLICATION).in(HYPERV_TO_AZURE)
                    .summary("Block-blob-only storage accounts can't be targets.")
                    .message("Use a general-purpose storage account, which holds page blobs.")
                    .check(ReplicationFacts.class, f -> each(f.target().storageAccounts(), s -> !s.kind().pageBlobs(),
                            s -> "storage account '" + s.id() + "' is of kind " + s.kind().armName())),

            // "Encryption at host: No."
            define("HyperVEncryptionAtHostNotSupported", BAD_REQUEST, "002").on(ENABLE_REPLICATION, UPDATE_PROTECTED_ITEM).in(HYPERV_TO_AZURE)
                    .summary("Encryption at host isn't supported for the recovered VM.")
                    .message("Turn off encryption at host for the recovery VM.")
                    .check(ReplicationFacts.class, f -> when(f.target().encryptionAtHost(), () ->
                            "The recovery VM for '" + f.vm().name() + "' asks for encryption at host.")),

            // "Encryption at rest (CMK) (Only for failover to managed disks)" and "Double Encryption at rest
            // (Only for failover to managed disks)."
            define("HyperVCustomerKeyRequiresManagedDisks", BAD_REQUEST, "002").on(ENABLE_REPLICATION, UPDATE_PROTECTED_ITEM).in(HYPERV_TO_AZURE)
                    .summary("Customer-managed-key and double encryption at rest need failover to managed disks.")
                    .message("Choose failover to managed disks, or use platform-managed keys.")
                    .check(ReplicationFacts.class, f -> when(!f.target().managedDisks()
                            && f.target().diskEncryption() != TargetFacts.DiskEncryption.PLATFORM_KEY, () ->
                            "The recovery disks of '" + f.vm().name() + "' use " + f.target().diskEncryption() + " encryption and the target is storage-account VHDs.")),

            // "Availability zones: No."
            define("HyperVAvailabilityZoneNotSupported", BAD_REQUEST, "002").on(ENABLE_REPLICATION, UPDATE_PROTECTED_ITEM).in(HYPERV_TO_AZURE)
                    .summary("Recovery VMs can't be pinned to an availability zone.")
                    .message("Leave the availability zone empty (availability sets are supported).")
                    .check(ReplicationFacts.class, f -> when(f.target().availabilityZone() != null, () ->
                            "The recovery VM for '" + f.vm().name() + "' is pinned to zone " + f.target().availabilityZone() + ".")),

            // "Accelerated Networking: No."
            define("HyperVAcceleratedNetworkingNotSupported", BAD_REQUEST, "002").on(ENABLE_REPLICATION, UPDATE_PROTECTED_ITEM).in(HYPERV_TO_AZURE)
                    .summary("Accelerated networking isn't supported for the recovered VM.")
                    .message("Turn off accelerated networking for the recovery VM's adapters.")
                    .check(ReplicationFacts.class, f -> when(f.target().acceleratedNetworking(), () ->
                            "The recovery VM for '" + f.vm().name() + "' asks for accelerated networking.")),

            // "Resize disk on replicated Hyper-V VM: Not supported. Disable replication, make the change, and then
            // re-enable replication for the VM."
            define("HyperVDiskResizeNotSupported", CONFLICT, "002").on(UPDATE_PROTECTED_ITEM).in(HYPERV_TO_AZURE)
                    .summary("A replicated disk can't be resized.")
                    .message("Disable replication, resize the disk, and then enable replication for the VM again.")
                    .check(ReplicationFacts.class, f -> changes(f, c -> c.resized(), d -> d + " was resized to " + Limits.bytes(d.sizeBytes()))),

            // "Add disk on replicated Hyper-V VM: Not supported. Disable replication, make the change, and then
            // re-enable replication." ("Hot add/remove disk: No.")
            define("HyperVDiskAddNotSupported", CONFLICT, "002").on(UPDATE_PROTECTED_ITEM).in(HYPERV_TO_AZURE)
                    .summary("A disk can't be added to a replicated VM.")
                    .message("Disable replication, add the disk, and then enable replication for the VM again.")
                    .check(ReplicationFacts.class, f -> changes(f, c -> c.added(), d -> d + " was added")),

            // "Hot add/remove disk: No."
            define("HyperVDiskRemoveNotSupported", CONFLICT, "002").on(UPDATE_PROTECTED_ITEM).in(HYPERV_TO_AZURE)
                    .summary("A disk can't be removed from a replicated VM.")
                    .message("Disable replication, remove the disk, and then enable replication for the VM again.")
                    .check(ReplicationFacts.class, f -> changes(f, c -> c.removed(), d -> d + " was removed")),

            // "Change disk ID on replication Hyper-V VM: Not supported. If you change the disk ID, it impacts the
            // replication and will show the disk as 'Not Protected'."
            define("HyperVDiskIdentityChanged", CONFLICT, "002").on(UPDATE_PROTECTED_ITEM).in(HYPERV_TO_AZURE)
                    .summary("A replicated disk's ID can't change; the disk would show as \"Not Protected\".")
                    .message("The disk shows as \"" + NOT_PROTECTED + "\" and no longer replicates. Disable replication and enable it again to protect it.")
                    .check(ReplicationFacts.class, f -> changes(f, c -> c.identityChanged(), d -> {
                        DiskFacts was = DiskChanges.replacedBy(f.protectedItem().protectedVm().disks(), d);
                        return "the disk at '" + d.location() + "' changed ID from '" + (was == null ? "?" : was.id()) + "' to '" + d.id() + "'";
                    })),

            // "Modify storage account: No. The target Azure Storage account can't be modified after enabling
            // replication. To modify, disable and then re-enable disaster recovery."
            define("HyperVTargetStorageChangeNotSupported", CONFLICT, "002").on(UPDATE_PROTECTED_ITEM).in(HYPERV_TO_AZURE)
                    .summary("The target storage account can't change after replication is enabled.")
                    .message("Disable replication and enable it again with the new target storage account.")
                    .check(ReplicationFacts.class, f -> {
                        if (f.protectedItem() == null) return null;
                        Set<String> was = lower(f.protectedItem().targetStorageAccountIds());
                        Set<String> now = lower(f.target().storageAccounts().stream().map(StorageAccountFacts::id).toList());
                        return when(!was.equals(now), () -> "The target storage of '" + f.vm().name() + "' would change from "
                                + f.protectedItem().targetStorageAccountIds() + " to " + f.target().storageAccounts().stream().map(StorageAccountFacts::id).toList() + ".");
                    }),

            // "Move vault across resource groups, within and across subscriptions: No."
            define("HyperVVaultMoveNotSupported", CONFLICT, "002").on(MOVE_RESOURCE)
                    .summary("A vault protecting Hyper-V VMs can't move to another resource group or subscription.")
                    .message("Keep the vault where it is; to use another resource group, create a new vault there and protect the VMs again.")
                    .check(MoveFacts.class, f -> when(f.kind() == MoveFacts.Kind.VAULT && f.usedBy(HYPERV_TO_AZURE), () ->
                            "Vault '" + f.id() + "' protects Hyper-V VMs.")),

            // "Move storage, network, Azure VMs across resource groups, within and across subscriptions: No."
            define("HyperVReplicationResourceMoveNotSupported", CONFLICT, "002").on(MOVE_RESOURCE)
                    .summary("Storage, networks and VMs used by Hyper-V replication can't move to another resource group or subscription.")
                    .message("Disable replication for the VMs that use the resource before moving it.")
                    .check(MoveFacts.class, f -> when(f.kind() != MoveFacts.Kind.VAULT && f.usedBy(HYPERV_TO_AZURE), () ->
                            "'" + f.id() + "' is used by Hyper-V replication.")),

            // "Hyper-V (running without Virtual Machine Manager): Windows Server 2022, 2019, 2016, 2012 R2."
            define("HyperVHostOsNotSupported", BAD_REQUEST, "002").on(REGISTER_SERVER)
                    .summary("Hyper-V hosts run Windows Server 2022, 2019, 2016 or 2012 R2.")
                    .message("Register a Hyper-V host running Windows Server 2012 R2, 2016, 2019 or 2022 (with the latest updates).")
                    .check(ServerRegistrationFacts.class, f -> when(f.type() == HYPERV_HOST && !Limits.HYPERV_HOST_RELEASES.contains(f.osRelease()), () ->
                            "The host runs Windows Server " + (f.osRelease() == null ? "(unknown release)" : f.osRelease().label()) + ".")),

            // "Hyper-V (running with Virtual Machine Manager): Virtual Machine Manager 2022, 2019, 2016, 2012 R2."
            define("HyperVVmmVersionNotSupported", BAD_REQUEST, "002").on(REGISTER_SERVER)
                    .summary("VMM servers run Virtual Machine Manager 2022, 2019, 2016 or 2012 R2.")
                    .message("Register a VMM server running Virtual Machine Manager 2012 R2, 2016, 2019 or 2022.")
                    .check(ServerRegistrationFacts.class, f -> when(f.type() == VMM_SERVER && !Limits.VMM_RELEASES.contains(f.vmmRelease()), () ->
                            "The server runs Virtual Machine Manager " + (f.vmmRelease() == null ? "(unknown release)" : f.vmmRelease().label()) + ".")),

            // "Virtual Machine Manager 2022 (Server core not supported)."
            define("HyperVVmmServerCoreNotSupported", BAD_REQUEST, "002").on(REGISTER_SERVER)
                    .summary("Virtual Machine Manager 2022 isn't supported on Server Core.")
                    .message("Install Virtual Machine Manager 2022 on a full (Desktop Experience) installation of Windows Server.")
                    .check(ServerRegistrationFacts.class, f -> when(f.type() == VMM_SERVER && f.vmmRelease() == Limits.VMM_NO_SERVER_CORE && f.serverCore(), () ->
                            "Virtual Machine Manager " + f.vmmRelease().label() + " runs on Server Core.")),

            // "If Virtual Machine Manager is used, Windows Server 2019 hosts should be managed in Virtual Machine
            // Manager 2019. Similarly, Windows Server 2016 hosts should be managed in Virtual Machine Manager 2016."
            define("HyperVHostNewerThanVmm", BAD_REQUEST, "002").on(REGISTER_SERVER)
                    .summary("A VMM server manages hosts no newer than its own release.")
                    .message("Manage the hosts with a Virtual Machine Manager release at least as new as their Windows Server release.")
                    .check(ServerRegistrationFacts.class, f -> f.type() != VMM_SERVER || f.vmmRelease() == null ? null
                            : each(f.managedHostReleases(), h -> h.compareTo(f.vmmRelease()) > 0,
                                    h -> "a Windows Server " + h.label() + " host is managed by Virtual Machine Manager " + f.vmmRelease().label())),

            // "Ensure that .NET Framework 4.6.2 or higher is present on the on-premises server."
            define("HyperVDotNetFrameworkTooOld", BAD_REQUEST, "002").on(REGISTER_SERVER)
                    .summary("Hyper-V hosts and VMM servers need .NET Framework 4.6.2 or later.")
                    .message("Install .NET Framework " + Limits.DOTNET_MIN_VERSION + " or later on the server, then register it again.")
                    .check(ServerRegistrationFacts.class, f -> when(f.hyperV() && !Versions.isAtLeast(f.dotNetVersion(), Limits.DOTNET_MIN_VERSION), () ->
                            "The server has .NET Framework " + Objects.requireNonNullElse(f.dotNetVersion(), "(none)") + ".")),

            // "Configuring both Azure Backup and Azure Site Recovery on the same Hyper-V host can cause issue with
            // replication and is not supported."
            define("HyperVHostAzureBackupConflict", CONFLICT, "002").on(REGISTER_SERVER)
                    .summary("A Hyper-V host can't use Azure Backup and Site Recovery together.")
                    .message("Remove the Azure Backup configuration from the host, or use another host for Site Recovery.")
                    .check(ServerRegistrationFacts.class, f -> when(f.type() == HYPERV_HOST && f.azureBackupConfigured(), () ->
                            "The Hyper-V host is configured for Azure Backup.")),

            // "Https Proxy: No."
            define("HyperVHttpsProxyNotSupported", BAD_REQUEST, "002").on(REGISTER_SERVER)
                    .summary("The Site Recovery provider can't use an HTTPS proxy.")
                    .message("Connect directly or through an HTTP proxy.")
                    .check(ServerRegistrationFacts.class, f -> when(f.hyperV() && f.proxyUrl() != null
                            && f.proxyUrl().strip().toLowerCase(Locale.ROOT).startsWith("https://"), () ->
                            "The server uses HTTPS proxy " + f.proxyUrl() + ".")),

            // "Host network: IPv4: Yes. Host network: IPv6: No."
            define("HyperVHostIpv4Required", BAD_REQUEST, "002").on(REGISTER_SERVER)
                    .summary("Hyper-V hosts reach Site Recovery over IPv4 (host IPv6 isn't supported).")
                    .message("Give the host IPv4 connectivity to Site Recovery.")
                    .check(ServerRegistrationFacts.class, f -> when(f.hyperV() && !f.ipv4Connectivity(), () ->
                            "The server has no IPv4 connectivity.")),

            // "When replicating Hyper-V VMs from on-premises to Azure, you can replicate to only one AD tenant from
            // one specific environment - Hyper-V site or Hyper-V with VMM as applicable."
            define("HyperVSiteRegisteredToAnotherTenant", CONFLICT, "002").on(REGISTER_SERVER)
                    .summary("A Hyper-V site or VMM environment replicates to one tenant only.")
                    .message("Unregister the server from the other tenant's vault first, or register it with a vault in that tenant.")
                    .check(ServerRegistrationFacts.class, f -> when(f.hyperV() && f.registeredTenantId() != null
                            && !f.registeredTenantId().equalsIgnoreCase(Objects.requireNonNullElse(f.vaultTenantId(), "")), () ->
                            "The server is already registered to tenant " + f.registeredTenantId() + "."))
    );

    static {
        validate(RULES);
    }

    /** Every rule, in catalogue order (by seed section). */
    public static List<Rule> all() {
        return RULES;
    }

    public static Optional<Rule> find(String code) {
        return RULES.stream().filter(r -> r.code().equals(code)).findFirst();
    }

    /** The rules checked at an operation. */
    public static List<Rule> forOperation(Operation op) {
        return RULES.stream().filter(r -> r.operations().contains(op)).toList();
    }

    /**
     * Every rule the facts break at this operation, in catalogue order; empty when all pass.
     *
     * @throws IllegalArgumentException when the facts are not the kind the operation is judged on
     */
    public static List<Violation> violations(Operation op, Facts facts) {
        Objects.requireNonNull(op, "op");
        Objects.requireNonNull(facts, "facts");
        if (!op.factsType().isInstance(facts)) {
            throw new IllegalArgumentException(op + " is judged on " + op.factsType().getSimpleName()
                    + ", not " + facts.getClass().getSimpleName());
        }
        List<Violation> out = new ArrayList<>();
        for (Rule rule : RULES) {
            rule.check(op, facts).ifPresent(out::add);
        }
        return List.copyOf(out);
    }

    /** Throws {@link #toException} of the violations, if there are any. */
    public static void enforce(Operation op, Facts facts) {
        List<Violation> found = violations(op, facts);
        if (!found.isEmpty()) throw toException(found);
    }

    /**
     * One violation: its own code, status and message. Several: MultipleRuleViolations (400) listing the codes,
     * with each violation as an entry of details.
     */
    public static ArmException toException(List<Violation> violations) {
        if (violations.isEmpty()) throw new IllegalArgumentException("no violations");
        if (violations.size() == 1) return violations.getFirst().toArmException();
        List<ArmException> details = violations.stream().map(Violation::toArmException).toList();
        return new ArmException(400, MULTIPLE_VIOLATIONS, violations.size() + " rules are violated: "
                + violations.stream().map(Violation::code).collect(Collectors.joining(", "))
                + ". See details for each one and what to do.", null, details);
    }

    // ---------------------------------------------------------------------------------------------------

    /** The catalogue's own invariants; broken ones fail class loading (and the tests) loudly. */
    static void validate(List<Rule> rules) {
        Set<String> codes = new HashSet<>();
        for (Rule r : rules) {
            List<String> problems = new ArrayList<>();
            if (!PASCAL_CASE.matcher(r.code()).matches()) problems.add("code is not PascalCase");
            if (r.code().equals(MULTIPLE_VIOLATIONS)) problems.add("code is reserved");
            if (!codes.add(r.code())) problems.add("duplicate code");
            if (r.status() != 400 && r.status() != 409) problems.add("status must be 400 or 409");
            if (r.seeds().isEmpty() || !SEEDS.containsAll(r.seeds())) problems.add("unknown seed " + r.seeds());
            if (r.operations().isEmpty()) problems.add("no operations");
            for (Operation op : r.operations()) {
                if (op.factsType() != r.factsType()) problems.add(op + " is judged on " + op.factsType().getSimpleName());
            }
            boolean scenarioFacts = r.factsType() == ReplicationFacts.class || r.factsType() == PolicyFacts.class;
            if (!r.scenarios().isEmpty() && !scenarioFacts) problems.add("scenarios on facts without a scenario");
            if (r.summary().isBlank() || r.message().isBlank()) problems.add("blank summary or message");
            if (!problems.isEmpty()) throw new IllegalStateException("Rule " + r.code() + ": " + String.join("; ", problems));
        }
    }

    private static String when(boolean violated, Supplier<String> finding) {
        return violated ? finding.get() : null;
    }

    /** One sentence listing every offending item, or null when none offends. */
    private static <T> String each(Collection<? extends T> items, Predicate<? super T> bad, Function<? super T, String> describe) {
        return sentence(items.stream().filter(bad).map(describe).toList());
    }

    private static String sentence(List<String> parts) {
        if (parts.isEmpty()) return null;
        String s = String.join("; ", parts);
        return Character.toUpperCase(s.charAt(0)) + s.substring(1) + ".";
    }

    private static String changes(ReplicationFacts f, Function<DiskChanges, List<DiskFacts>> which, Function<DiskFacts, String> describe) {
        if (f.protectedItem() == null) return null;
        DiskChanges c = DiskChanges.between(f.protectedItem().protectedVm().disks(), f.vm().disks());
        return each(which.apply(c), d -> true, d -> describe.apply(d) + " on protected VM '" + f.vm().name() + "'");
    }

    private static String vmNameProblem(String name) {
        if (name.isEmpty()) return "The recovery VM name is empty.";
        if (name.length() > Limits.VM_NAME_MAX_LENGTH) {
            return "The recovery VM name '" + name + "' has " + name.length() + " characters; at most " + Limits.VM_NAME_MAX_LENGTH + " are allowed.";
        }
        if (!name.matches("[A-Za-z0-9-]+")) {
            return "The recovery VM name '" + name + "' has characters other than letters, numbers and hyphens.";
        }
        if (!Limits.VM_NAME.matcher(name).matches()) {
            return "The recovery VM name '" + name + "' must start and end with a letter or number.";
        }
        return null;
    }

    private static Set<String> lower(Collection<String> ids) {
        return ids.stream().map(s -> s.toLowerCase(Locale.ROOT)).collect(Collectors.toSet());
    }

    private static String hours(Duration d) {
        return d.toMinutes() % 60 == 0 ? d.toHours() + " hours" : d.toMinutes() + " minutes";
    }

    private static String minutes(Duration d) {
        return d.toSeconds() % 60 == 0 ? d.toMinutes() + " minutes" : d.toSeconds() + " seconds";
    }

    /** Codes by seed, for listings. */
    public static Map<String, List<String>> codesBySeed() {
        Map<String, List<String>> out = new LinkedHashMap<>();
        for (String seed : List.of("000", "001", "002", "003", "004")) {
            out.put(seed, RULES.stream().filter(r -> r.seeds().contains(seed)).map(Rule::code).toList());
        }
        return out;
    }
}
