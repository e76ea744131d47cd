package dev.secondsite.protection;

import com.fasterxml.jackson.databind.JsonNode;
import dev.secondsite.arm.ArmException;

import java.util.ArrayList;
import java.util.List;

import static dev.secondsite.protection.ProtectionStore.*;

/**
 * The protected item's state machine: which operations (ASR's ReplicationProtectedItemOperation names, shown in
 * {@code allowedOperations}) each state allows, and the 409 an operation gets in any other state. States follow
 * ASR (reference §4.2): Enabling → InitialReplication → Protected (⇄ Resynchronizing; test failover runs beside
 * Protected in {@code testFailoverState}) → FailoverInProgress → PlannedFailoverCommitRequired |
 * UnplannedFailoverCommitPendingStatesBegin → FailoverCommitInProgress → PlannedFailoverStatesBegin (committed)
 * → ReprotectInProgress → Protected with the other active location; Disabling at any replicating point.
 */
public final class ItemOperations {
    public static final String TEST_FAILOVER = "TestFailover";
    public static final String TEST_FAILOVER_CLEANUP = "TestFailoverCleanup";
    public static final String PLANNED_FAILOVER = "PlannedFailover";
    public static final String UNPLANNED_FAILOVER = "UnplannedFailover";
    public static final String COMMIT = "Commit";
    public static final String REVERSE_REPLICATE = "ReverseReplicate";
    public static final String DISABLE = "DisableProtection";
    public static final String REPAIR = "RepairReplication";

    private ItemOperations() {}

    /** What the item allows now, in ASR's order. */
    public static List<String> allowed(ProtectionStore.Item item) {
        List<String> ops = new ArrayList<>();
        switch (item.state()) {
            case ENABLING -> ops.add(DISABLE);
            case INITIAL_REPLICATION -> ops.addAll(List.of(DISABLE, REPAIR));
            case PROTECTED -> {
                if (item.activeLocation().equals("Recovery")) { // replicating back after reprotect
                    ops.addAll(List.of(PLANNED_FAILOVER, DISABLE));
                    return ops;
                }
                switch (item.testFailoverState()) {
                    case TFO_NONE -> ops.addAll(List.of(PLANNED_FAILOVER, UNPLANNED_FAILOVER, DISABLE, TEST_FAILOVER, REPAIR));
                    case TFO_WAITING -> ops.addAll(List.of(TEST_FAILOVER_CLEANUP, DISABLE));
                    default -> { } // a test failover or its cleanup is running
                }
            }
            case RESYNCHRONIZING -> ops.addAll(List.of(UNPLANNED_FAILOVER, DISABLE, REPAIR));
            case PLANNED_FAILOVER_COMMIT_REQUIRED, UNPLANNED_FAILOVER_COMMIT_PENDING -> ops.addAll(List.of(COMMIT, DISABLE));
            case FAILOVER_COMMITTED -> ops.addAll(List.of(REVERSE_REPLICATE, DISABLE));
            default -> { } // FailoverInProgress, FailoverCommitInProgress, ReprotectInProgress, Disabling
        }
        return ops;
    }

    /** The operations that build a VM in the item's Azure target. */
    private static final List<String> FAILOVERS = List.of(TEST_FAILOVER, PLANNED_FAILOVER, UNPLANNED_FAILOVER);

    /**
     * What the item allows now, as {@code allowedOperations} shows it: without the failovers while it replicates
     * from the primary with no Azure target to fail over into (enabled with the recovery store as its target; point
     * export restores its points). A failover asked for anyway gets 409 FailoverTargetNotConfigured, saying how to
     * give it one.
     */
    public static List<String> allowed(ProtectionStore.Item item, JsonNode itemProperties) {
        List<String> ops = allowed(item);
        if (!hasAzureTarget(itemProperties) && item.activeLocation().equals("Primary")) {
            ops.removeAll(FAILOVERS);
        }
        return ops;
    }

    /** Whether the item was enabled with an Azure target (a resource group) that failover can build a VM in. */
    public static boolean hasAzureTarget(JsonNode itemProperties) {
        return !itemProperties.path("providerSpecificDetails").path("recoveryAzureResourceGroupId").asText("").isEmpty();
    }

    /** 409 OperationNotAllowedInCurrentState naming the state, unless the item allows {@code operation} now. */
    public static void require(ProtectionStore.Item item, String operation) {
        require(item, null, operation);
    }

    /**
     * As {@link #require(ProtectionStore.Item, String)}; the operations the 409 lists as allowed are the item's
     * {@code allowedOperations} ({@link #allowed(ProtectionStore.Item, JsonNode)}: no failovers without an Azure
     * target). A failover asked for in a state that allows it still passes here, to be refused with the message
     * that says how to give the item a target.
     */
    public static void require(ProtectionStore.Item item, JsonNode itemProperties, String operation) {
        if (!allowed(item).contains(operation)) {
            List<String> allowed = itemProperties == null ? allowed(item) : allowed(item, itemProperties);
            String name = item.itemId().substring(item.itemId().lastIndexOf('/') + 1);
            throw ArmException.conflict("OperationNotAllowedInCurrentState", operation + " is not allowed while '"
                    + name + "' is " + item.state() + " (active location " + item.activeLocation() + ", test failover "
                    + item.testFailoverState() + "). Allowed now: " + (allowed.isEmpty() ? "none, wait for the running "
                    + "operation to finish" : String.join(", ", allowed)) + ".");
        }
    }
}
