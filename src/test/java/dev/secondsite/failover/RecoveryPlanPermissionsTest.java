package dev.secondsite.failover;

import dev.secondsite.arm.ArmPath;
import dev.secondsite.arm.ArmRoutes;
import dev.secondsite.auth.BuiltInRole;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The RBAC strings the router derives for recovery plans, the built-in roles' view of them, script timeouts. */
class RecoveryPlanPermissionsTest {
    private static final String PLAN = "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v"
            + "/replicationRecoveryPlans/p1";

    @Test
    void operatorsRunPlansButOnlyContributorsWriteThem() {
        String failover = ArmRoutes.permission("POST", ArmPath.parse("POST", PLAN + "/testFailover"));
        String write = ArmRoutes.permission("PUT", ArmPath.parse("PUT", PLAN));
        assertThat(failover).isEqualTo("Microsoft.RecoveryServices/vaults/replicationRecoveryPlans/testFailover/action");
        assertThat(write).isEqualTo("Microsoft.RecoveryServices/vaults/replicationRecoveryPlans/write");
        assertThat(BuiltInRole.SITE_RECOVERY_OPERATOR.permits(failover)).isTrue();
        // Writing a plan chooses the scripts the server runs: not an operator's right.
        assertThat(BuiltInRole.SITE_RECOVERY_OPERATOR.permits(write)).isFalse();
        assertThat(BuiltInRole.SITE_RECOVERY_CONTRIBUTOR.permits(write)).isTrue();
        assertThat(BuiltInRole.SITE_RECOVERY_READER.permits(failover)).isFalse();
        assertThat(BuiltInRole.SITE_RECOVERY_READER.permits(ArmRoutes.permission("GET", ArmPath.parse("GET", PLAN))))
                .isTrue();
    }

    @Test
    void scriptTimeoutsAreSecondsOrIsoDurationsUpToAnHour() {
        assertThat(PlanGroups.timeout(null, "t")).isEqualTo(Duration.ofMinutes(10));
        assertThat(PlanGroups.timeout("90", "t")).isEqualTo(Duration.ofSeconds(90));
        assertThat(PlanGroups.timeout("PT5M", "t")).isEqualTo(Duration.ofMinutes(5));
        assertThatThrownBy(() -> PlanGroups.timeout("0", "t")).hasMessageContaining("between 1 second and 1 hour");
        assertThatThrownBy(() -> PlanGroups.timeout("PT2H", "t")).hasMessageContaining("between 1 second and 1 hour");
        assertThatThrownBy(() -> PlanGroups.timeout("soon", "t")).hasMessageContaining("ISO-8601");
    }
}
