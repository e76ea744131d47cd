package dev.secondsite.failover;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.ArmException;
import dev.secondsite.arm.Json;
import dev.secondsite.failover.Failovers.ItemAction;
import dev.secondsite.jobs.JobContext;
import dev.secondsite.jobs.Workflow;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.secondsite.jobs.Workflow.task;

/**
 * The jobs of recovery plans. Create, update and delete store the checked plan. A plan failover is one job whose
 * tasks follow the plan: a prerequisites check, then for each group in order its start actions, its items (each
 * item's own failover steps, run inline by {@link Failovers#run} and shown as child tasks) and its end actions,
 * then a task that records the outcome on the plan. The task list is derived from the job's input (the steps
 * chosen when the job was accepted), so a restarted job resumes at its first unfinished step.
 *
 * <p>A failing script fails its task and so the job, except in the Shutdown group, where it is a warning and the
 * job goes on. A failed or cancelled job rolls back the item whose steps it was in; items that finished keep
 * their new state (restart the job to go on once the cause is fixed).
 */
final class PlanRunner {
    private static final Logger LOG = LoggerFactory.getLogger(PlanRunner.class);

    private final PlanState plans;
    private final Failovers failovers;
    private final Clock clock;
    private final Workflow create = new Workflow("CreateRecoveryPlan", "Create recovery plan", List.of(
            task("CreateRecoveryPlan", "Create the recovery plan", this::store)));
    private final Workflow update = new Workflow("UpdateRecoveryPlan", "Update recovery plan", List.of(
            task("UpdateRecoveryPlan", "Update the recovery plan", this::store)));
    private final Workflow delete = new Workflow("DeleteRecoveryPlan", "Delete recovery plan", List.of(
            task("PrerequisitesCheck", "Prerequisites check for deleting the recovery plan", this::checkIdle),
            task("DeleteRecoveryPlan", "Delete the recovery plan", this::remove)));
    private final Map<ItemAction, Workflow> actions = new LinkedHashMap<>();

    PlanRunner(PlanState plans, Failovers failovers, Clock clock) {
        this.plans = plans;
        this.failovers = failovers;
        this.clock = clock;
        for (ItemAction action : ItemAction.values()) {
            actions.put(action, new Workflow("RecoveryPlan" + scenario(action), friendlyName(action), List.of(),
                    this::rollback, this::tasks));
        }
    }

    List<Workflow> workflows() {
        List<Workflow> all = new ArrayList<>(List.of(create, update, delete));
        all.addAll(actions.values());
        return all;
    }

    Workflow create() {
        return create;
    }

    Workflow update() {
        return update;
    }

    Workflow delete() {
        return delete;
    }

    Workflow workflow(ItemAction action) {
        return actions.get(action);
    }

    /** The scenario name ASR gives the plan operation (and plan's currentScenario.scenarioName). */
    static String scenario(ItemAction action) {
        return switch (action) {
            case TEST_FAILOVER -> "TestFailover";
            case TEST_FAILOVER_CLEANUP -> "TestFailoverCleanup";
            case PLANNED_FAILOVER -> "PlannedFailover";
            case UNPLANNED_FAILOVER -> "UnplannedFailover";
            case COMMIT -> "FailoverCommit";
        };
    }

    static String friendlyName(ItemAction action) {
        return switch (action) {
            case TEST_FAILOVER -> "Test failover";
            case TEST_FAILOVER_CLEANUP -> "Cleanup test failover";
            case PLANNED_FAILOVER -> "Planned failover";
            case UNPLANNED_FAILOVER -> "Failover";
            case COMMIT -> "Commit";
        };
    }

    /**
     * The steps of a plan job, in plan order: for each group its start actions that apply to this operation and
     * direction, its items, then its end actions. {@code itemInputs} are the items' checked inputs by item id.
     */
    static ArrayNode steps(ItemAction action, String direction, JsonNode groups, Map<String, ObjectNode> itemInputs) {
        ArrayNode steps = Json.MAPPER.createArrayNode();
        for (int g = 0; g < groups.size(); g++) {
            JsonNode group = groups.get(g);
            String name = PlanGroups.displayName(groups, g);
            actionSteps(steps, group.path("startGroupActions"), action, direction, name, group, "start");
            for (JsonNode item : group.path("replicationProtectedItems")) {
                ObjectNode step = steps.addObject();
                step.put("kind", "item");
                step.put("group", name);
                step.put("groupType", group.path("groupType").asText());
                String id = item.path("id").asText();
                step.put("itemId", id);
                step.put("itemName", id.substring(id.lastIndexOf('/') + 1));
                step.set("input", itemInputs.get(id));
            }
            actionSteps(steps, group.path("endGroupActions"), action, direction, name, group, "end");
        }
        return steps;
    }

    private static void actionSteps(ArrayNode steps, JsonNode list, ItemAction action, String direction, String name,
                                    JsonNode group, String phase) {
        for (JsonNode a : list) {
            boolean applies = contains(a.path("failoverTypes"), action.operation)
                    && contains(a.path("failoverDirections"), direction);
            if (applies) {
                ObjectNode step = steps.addObject();
                step.put("kind", "action");
                step.put("group", name);
                step.put("groupType", group.path("groupType").asText());
                step.put("phase", phase);
                step.set("action", a.deepCopy());
            }
        }
    }

    private static boolean contains(JsonNode array, String value) {
        for (JsonNode v : array) {
            if (v.asText().equalsIgnoreCase(value)) {
                return true;
            }
        }
        return false;
    }

    // =========================================================================== create, update, delete

    private void store(JobContext ctx) {
        ObjectNode in = ctx.input();
        String id = in.path("id").asText();
        ObjectNode body = Json.object();
        body.put("id", id);
        body.put("name", in.path("name").asText());
        body.put("type", PlanState.TYPE);
        ObjectNode properties = ((ObjectNode) in.path("properties")).deepCopy();
        plans.find(id).ifPresent(existing -> {
            // What earlier operations recorded stays: last failover times, the current scenario.
            for (String field : List.of("lastPlannedFailoverTime", "lastUnplannedFailoverTime", "lastTestFailoverTime",
                    "currentScenario", "currentScenarioStatus", "currentScenarioStatusDescription")) {
                if (existing.properties().has(field)) {
                    properties.set(field, existing.properties().get(field).deepCopy());
                }
            }
        });
        body.set("properties", properties);
        plans.save(id, body);
        ctx.result(id);
    }

    private void checkIdle(JobContext ctx) {
        plans.find(ctx.input().path("id").asText()).ifPresent(plan -> {
            if (PlanState.inProgress(plan.properties())) {
                throw busy(plan.name(), plan.properties());
            }
        });
    }

    private void remove(JobContext ctx) {
        plans.find(ctx.input().path("id").asText()).ifPresent(plan -> plans.delete(plan.id()));
    }

    static ArmException busy(String name, JsonNode properties) {
        return ArmException.conflict("RecoveryPlanOperationInProgress", "Recovery plan '" + name + "' is running "
                + properties.path("currentScenario").path("scenarioName").asText("an operation") + " (job "
                + properties.path("currentScenario").path("jobId").asText() + "). Wait for the job to finish.");
    }

    // =========================================================================== plan failover jobs

    private List<Workflow.Task> tasks(ObjectNode input) {
        ItemAction action = ItemAction.valueOf(input.path("action").asText());
        String friendly = friendlyName(action).toLowerCase(java.util.Locale.ROOT);
        List<Workflow.Task> tasks = new ArrayList<>();
        tasks.add(task("PrerequisitesCheck", "Prerequisites check for " + friendly + " of the recovery plan",
                ctx -> begin(ctx, action)));
        for (JsonNode s : input.path("steps")) {
            ObjectNode step = (ObjectNode) s;
            if (step.path("kind").asText().equals("item")) {
                ObjectNode details = Json.object();
                details.put("instanceType", "VirtualMachineTaskDetails");
                details.put("name", step.path("itemName").asText());
                tasks.add(new Workflow.Task(scenario(action), step.path("group").asText() + ": " + friendlyName(action)
                        + " of '" + step.path("itemName").asText() + "'", ctx -> {
                            resume(ctx);
                            failovers.run(action, ctx, (ObjectNode) step.path("input"));
                        }, details));
            } else {
                Workflow.Task t = actionTask(input, step);
                tasks.add(new Workflow.Task(t.name(), t.friendlyName(), ctx -> {
                    resume(ctx);
                    t.step().run(ctx);
                }, t.customDetails()));
            }
        }
        tasks.add(task("CompleteRecoveryPlan", "Complete " + friendly + " of the recovery plan",
                ctx -> complete(ctx, action)));
        return tasks;
    }

    private Workflow.Task actionTask(ObjectNode input, ObjectNode step) {
        JsonNode a = step.path("action");
        JsonNode custom = a.path("customDetails");
        String name = a.path("actionName").asText();
        String where = step.path("group").asText() + " (" + step.path("phase").asText() + "): ";
        ObjectNode details = Json.object();
        if (custom.path("instanceType").asText().equals(PlanGroups.MANUAL)) {
            details.put("instanceType", "ManualActionTaskDetails");
            details.put("name", name);
            details.put("instructions", custom.path("description").asText());
            return new Workflow.Task("ManualAction", where + "manual action '" + name + "'",
                    ctx -> ctx.warn("ManualAction", "Manual action: " + custom.path("description").asText()), details);
        }
        details.put("instanceType", "ScriptActionTaskDetails");
        details.put("name", name);
        details.put("path", custom.path("path").asText());
        details.put("isPrimarySideScript", custom.path("fabricLocation").asText().equals("Primary"));
        return new Workflow.Task("ScriptAction", where + "script '" + name + "'",
                ctx -> script(ctx, input, step), details);
    }

    private void script(JobContext ctx, ObjectNode input, ObjectNode step) throws InterruptedException {
        JsonNode a = step.path("action");
        JsonNode custom = a.path("customDetails");
        Map<String, String> env = new LinkedHashMap<>();
        env.put("SECONDSITE_RECOVERY_PLAN_NAME", input.path("planName").asText());
        env.put("SECONDSITE_RECOVERY_PLAN_ID", input.path("planId").asText());
        env.put("SECONDSITE_GROUP", step.path("group").asText());
        env.put("SECONDSITE_GROUP_TYPE", step.path("groupType").asText());
        env.put("SECONDSITE_ACTION_NAME", a.path("actionName").asText());
        env.put("SECONDSITE_FAILOVER_TYPE", ItemAction.valueOf(input.path("action").asText()).operation);
        env.put("SECONDSITE_FAILOVER_DIRECTION", input.path("direction").asText());
        env.put("SECONDSITE_JOB_ID", ctx.job().armId());
        try {
            ScriptActions.Result result = ScriptActions.run(a.path("actionName").asText(), custom.path("path").asText(),
                    PlanGroups.timeout(custom.path("timeout").asText(null), "timeout"), env);
            ctx.detail("output", result.output());
        } catch (ArmException e) {
            ctx.detail("output", e.getMessage());
            if (!step.path("groupType").asText().equals(PlanGroups.SHUTDOWN)) {
                throw e;
            }
            ctx.warn(e.code(), e.getMessage() + " (Shutdown group: the plan goes on.)");
        }
    }

    /** First task: the plan records this job as its current scenario; another running plan job is a 409. */
    private void begin(JobContext ctx, ItemAction action) {
        String planId = ctx.input().path("planId").asText();
        var plan = plans.find(planId).orElseThrow(() -> ArmException.notFound(planId));
        JsonNode current = plan.properties().path("currentScenario");
        boolean ours = ctx.job().armId().equals(current.path("jobId").asText());
        if (!ours && PlanState.inProgress(plan.properties())) {
            throw busy(plan.name(), plan.properties());
        }
        plans.update(planId, p -> {
            if (!ours) {
                ObjectNode scenario = p.putObject("currentScenario");
                scenario.put("scenarioName", scenario(action));
                scenario.put("jobId", ctx.job().armId());
                scenario.put("startTime", Json.time(clock.millis()));
            }
            p.put("currentScenarioStatus", PlanState.IN_PROGRESS);
            p.put("currentScenarioStatusDescription", PlanState.IN_PROGRESS);
        });
    }

    /**
     * A restarted job resumes after its (succeeded) prerequisites check: the plan shows this job in progress
     * again, so no other plan operation is accepted meanwhile.
     */
    private void resume(JobContext ctx) {
        String planId = ctx.input().path("planId").asText();
        plans.find(planId).filter(plan -> !PlanState.inProgress(plan.properties())
                        && ctx.job().armId().equals(plan.properties().path("currentScenario").path("jobId").asText()))
                .ifPresent(plan -> plans.update(planId, p -> {
                    p.put("currentScenarioStatus", PlanState.IN_PROGRESS);
                    p.put("currentScenarioStatusDescription", PlanState.IN_PROGRESS);
                }));
    }

    /** Last task: the plan's last-failover time and scenario status; the job's result is the plan. */
    private void complete(JobContext ctx, ItemAction action) {
        String planId = ctx.input().path("planId").asText();
        String now = Json.time(clock.millis());
        plans.update(planId, p -> {
            switch (action) {
                case TEST_FAILOVER -> p.put("lastTestFailoverTime", now);
                case PLANNED_FAILOVER -> p.put("lastPlannedFailoverTime", now);
                case UNPLANNED_FAILOVER -> p.put("lastUnplannedFailoverTime", now);
                default -> { }
            }
            p.put("currentScenarioStatus", "Succeeded");
            p.put("currentScenarioStatusDescription", action == ItemAction.TEST_FAILOVER
                    ? "WaitingForStopTestFailover" : "Completed");
        });
        ctx.result(planId);
    }

    /**
     * After a failure or cancel: each item whose steps this job was in is rolled back by its own workflow's
     * rollback (a no-op for items that finished or never started); the plan shows the scenario failed.
     */
    private void rollback(JobContext ctx) {
        ItemAction action = ItemAction.valueOf(ctx.input().path("action").asText());
        List<JsonNode> steps = new ArrayList<>();
        ctx.input().path("steps").forEach(steps::add);
        for (JsonNode step : steps.reversed()) {
            if (step.path("kind").asText().equals("item")) {
                try {
                    failovers.rollback(action, ctx, (ObjectNode) step.path("input"));
                } catch (Exception e) {
                    LOG.error("rollback of item {} in plan job {} failed", step.path("itemId").asText(),
                            ctx.job().id(), e);
                }
            }
        }
        String planId = ctx.input().path("planId").asText();
        plans.update(planId, p -> {
            if (ctx.job().armId().equals(p.path("currentScenario").path("jobId").asText())) {
                p.put("currentScenarioStatus", "Failed");
                p.put("currentScenarioStatusDescription", "Failed");
            }
        });
    }
}
