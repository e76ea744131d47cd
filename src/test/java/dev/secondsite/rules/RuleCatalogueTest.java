package dev.secondsite.rules;

import dev.secondsite.arm.ArmException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class RuleCatalogueTest {
    private static final Map<String, RuleCases.Case> CASES = RuleCases.all();

    static Stream<Arguments> cases() {
        return CASES.entrySet().stream().map(e -> Arguments.of(e.getKey(), e.getValue()));
    }

    static Stream<Arguments> baselines() {
        return Arrays.stream(Operation.values()).flatMap(op -> {
            List<Facts> facts = RuleFixtures.baselines(op);
            return IntStream.range(0, facts.size()).mapToObj(i -> Arguments.of(op, i, facts.get(i)));
        });
    }

    @Test
    void everyRuleInTheCatalogueHasACase() {
        List<String> codes = RuleCatalogue.all().stream().map(Rule::code).toList();
        assertThat(CASES.keySet()).as("rules without a test case").containsAll(codes);
        assertThat(codes).as("cases for rules that are not in the catalogue").containsAll(CASES.keySet());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void caseViolatesExactlyItsRule(String code, RuleCases.Case c) {
        Rule rule = RuleCatalogue.find(code).orElseThrow();
        assertThat(rule.operations()).contains(c.op());

        List<Violation> found = RuleCatalogue.violations(c.op(), c.facts());

        assertThat(found).extracting(Violation::code).containsExactly(code);
        Violation v = found.getFirst();
        assertThat(v.status()).isEqualTo(rule.status());
        assertThat(v.message()).endsWith(rule.message()).hasSizeGreaterThan(rule.message().length() + 10);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void ruleFiresAtEveryOperationItDeclares(String code, RuleCases.Case c) {
        Rule rule = RuleCatalogue.find(code).orElseThrow();
        for (Operation op : rule.operations()) {
            assertThat(rule.check(op, c.facts())).as("%s at %s", code, op).isPresent();
        }
        for (Operation op : Operation.values()) {
            if (!rule.operations().contains(op) && op.factsType().isInstance(c.facts())) {
                assertThat(rule.check(op, c.facts())).as("%s must not fire at %s", code, op).isEmpty();
            }
        }
    }

    @ParameterizedTest(name = "{0} #{1}")
    @MethodSource("baselines")
    void baselinePassesEveryRuleOfItsOperation(Operation op, int index, Facts facts) {
        assertThat(RuleCatalogue.violations(op, facts)).isEmpty();
        assertThatCode(() -> RuleCatalogue.enforce(op, facts)).doesNotThrowAnyException();
    }

    @Test
    void everyOperationHasABaselineAndEveryRuleIsReachable() {
        for (Operation op : Operation.values()) {
            assertThat(RuleFixtures.baselines(op)).as("baselines for %s", op).isNotEmpty()
                    .allSatisfy(f -> assertThat(f).isInstanceOf(op.factsType()));
        }
        assertThat(RuleCatalogue.all()).allSatisfy(r -> assertThat(r.operations()).isNotEmpty());
    }

    @Test
    void codesAreUniquePascalCaseAndNotReserved() {
        List<String> codes = RuleCatalogue.all().stream().map(Rule::code).toList();
        assertThat(codes).doesNotHaveDuplicates().allMatch(c -> c.matches("[A-Z][A-Za-z0-9]+"))
                .doesNotContain(RuleCatalogue.MULTIPLE_VIOLATIONS);
    }

    @Test
    void everyRuleIsComplete() {
        assertThat(RuleCatalogue.all()).allSatisfy(r -> {
            assertThat(r.status()).isIn(400, 409);
            assertThat(r.seed()).isIn("000", "001", "002", "003", "004");
            assertThat(r.seeds()).contains(r.seed());
            assertThat(r.summary()).isNotBlank().endsWith(".");
            assertThat(r.message()).isNotBlank();
            assertThat(r.operations()).allSatisfy(op -> assertThat(op.factsType()).isEqualTo(r.factsType()));
        });
    }

    @Test
    void everySeedContributesRules() {
        Map<String, Long> bySeed = RuleCatalogue.all().stream().collect(Collectors.groupingBy(Rule::seed, Collectors.counting()));
        assertThat(bySeed.keySet()).containsExactlyInAnyOrder("000", "001", "002", "003", "004");
        assertThat(RuleCatalogue.codesBySeed().get("001")).contains("TargetStorageNotInVaultRegion", "RegistrationKeyExpired");
    }

    @Test
    void validationRejectsDuplicateCodes() {
        Rule rule = RuleCatalogue.all().getFirst();
        assertThatThrownBy(() -> RuleCatalogue.validate(List.of(rule, rule)))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("duplicate code");
    }

    @Test
    void validationRejectsAnOperationJudgedOnOtherFacts() {
        Rule wrong = Rule.define("WrongFacts", 400, "000").on(Operation.REGISTER_SERVER).summary("s.").message("m.")
                .check(ReplicationFacts.class, f -> null);
        assertThatThrownBy(() -> RuleCatalogue.validate(List.of(wrong)))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("REGISTER_SERVER is judged on ServerRegistrationFacts");
    }

    @Test
    void factsOfTheWrongKindAreRefused() {
        assertThatThrownBy(() -> RuleCatalogue.violations(Operation.REGISTER_SERVER, RuleFixtures.a2a()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ServerRegistrationFacts");
    }

    @Test
    void enforceThrowsTheRuleItselfForOneViolation() {
        ReplicationFacts facts = RuleFixtures.a2a().with(r -> r.vm(v -> v.latestRootCertificates(false)));

        ArmException e = catchThrowableOfType(ArmException.class, () -> RuleCatalogue.enforce(Operation.ENABLE_REPLICATION, facts));

        assertThat(e.status()).isEqualTo(400);
        assertThat(e.code()).isEqualTo("VmRootCertificatesOutdated");
        assertThat(e.getMessage()).contains("web01").contains("Windows updates");
        assertThat(e.details()).isEmpty();
    }

    @Test
    void enforceKeepsAConflictStatusForOneViolation() {
        ReplicationFacts facts = RuleFixtures.a2a().with(r -> r.target(t -> t.capacity(new TargetCapacity(true, 0, List.of(RuleFixtures.D2S_V3)))));

        ArmException e = catchThrowableOfType(ArmException.class, () -> RuleCatalogue.enforce(Operation.FAILOVER, facts));

        assertThat(e.status()).isEqualTo(409);
        assertThat(e.code()).isEqualTo("InsufficientTargetQuota");
        assertThat(e.getMessage()).contains("needs 2 vCPUs").contains("0 left");
    }

    @Test
    void enforceListsEveryViolationWhenThereAreSeveral() {
        ReplicationFacts facts = RuleFixtures.a2aTrustedLaunch().with(r -> r
                .vm(v -> v.osType(VmFacts.OsType.LINUX).latestRootCertificates(false))
                .target(t -> t.capacity(new TargetCapacity(true, 1, List.of(RuleFixtures.D2S_V3)))));

        ArmException e = catchThrowableOfType(ArmException.class, () -> RuleCatalogue.enforce(Operation.ENABLE_REPLICATION, facts));

        assertThat(e.status()).isEqualTo(400);
        assertThat(e.code()).isEqualTo("MultipleRuleViolations");
        assertThat(e.getMessage()).contains("3 rules").contains("TrustedLaunchLinuxNotSupported");
        assertThat(e.details()).extracting(ArmException::code)
                .containsExactly("TrustedLaunchLinuxNotSupported", "InsufficientTargetQuota", "VmRootCertificatesOutdated");
        assertThat(e.details()).extracting(ArmException::status).containsExactly(400, 409, 400);
        assertThat(e.details()).allSatisfy(d -> {
            assertThat(d.getMessage()).isNotBlank();
            assertThat(d.details()).isEmpty();
        });
    }

    @Test
    void violationsListEveryBrokenRuleForAValidateAction() {
        ReplicationFacts facts = RuleFixtures.hyperV().with(r -> r.recoveryVmName("-bad-").vm(v -> v.secureBoot(true)
                .replaceDisk("hv-data1", d -> d.trait(DiskFacts.Trait.BITLOCKER, DiskFacts.Trait.SHARED))));

        assertThat(RuleCatalogue.violations(Operation.ENABLE_REPLICATION, facts)).extracting(Violation::code)
                .containsExactly("HyperVVmNameInvalid", "HyperVSharedDiskNotSupported", "HyperVBitLockerNotSupported",
                        "HyperVSecureBootNotSupported");
    }

    @Test
    void forOperationListsTheRulesCheckedThere() {
        assertThat(RuleCatalogue.forOperation(Operation.UPDATE_VM)).extracting(Rule::code)
                .containsExactly("TrustedLaunchUpgradeOfProtectedVmNotSupported");
        assertThat(RuleCatalogue.forOperation(Operation.CREATE_PRIVATE_ENDPOINT)).extracting(Rule::seed).containsOnly("003");
        Set<Operation> covered = RuleCatalogue.all().stream().flatMap(r -> r.operations().stream()).collect(Collectors.toSet());
        assertThat(covered).containsExactlyInAnyOrder(Operation.values());
    }
}
