package dev.secondsite.monitoring;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.secondsite.arm.Json;
import dev.secondsite.protection.ItemView;
import dev.secondsite.protection.ProtectionStore;
import dev.secondsite.resource.ResourceStore;
import dev.secondsite.vault.VaultScope;
import dev.secondsite.resource.StoredResource;

import java.util.List;
import java.util.Optional;

/**
 * RPO threshold alerts: after each housekeeping run, every protected item whose newest recovery point is older than
 * its policy's {@code recoveryPointThresholdInMinutes} (the item's RpoThresholdExceeded health error, ItemView) gets
 * one Warning event, and one OK event when it is back within the threshold. Whether an alert is open is read from
 * the stored events, so a restart neither repeats nor loses one.
 */
public final class RpoAlerts {
    public static final String EXCEEDED = "RpoThresholdExceeded";
    public static final String RECOVERED = "RpoBackWithinThreshold";
    private static final List<String> CODES = List.of(EXCEEDED, RECOVERED);

    private final ResourceStore resources;
    private final ProtectionStore store;
    private final ItemView view;
    private final ReplicationEvents events;

    public RpoAlerts(ResourceStore resources, ProtectionStore store, ItemView view, ReplicationEvents events) {
        this.resources = resources;
        this.store = store;
        this.view = view;
        this.events = events;
    }

    public void check() {
        for (ProtectionStore.Item item : store.items()) {
            Optional<StoredResource> resource = resources.find(item.itemId());
            if (resource.isEmpty() || !item.state().equals(ProtectionStore.PROTECTED)) {
                continue;
            }
            JsonNode body = view.render(resource.get());
            JsonNode exceeded = null;
            for (JsonNode error : body.path("properties").path("healthErrors")) {
                if (EXCEEDED.equals(error.path("errorCode").asText())) {
                    exceeded = error;
                }
            }
            boolean open = events.latest(item.itemId(), CODES).map(e -> e.code().equals(EXCEEDED)).orElse(false);
            String vaultId = VaultScope.vaultIdOf(item.itemId());
            String name = resource.get().name();
            if (exceeded != null && !open) {
                ArrayNode errors = Json.MAPPER.createArrayNode().add(exceeded.deepCopy());
                events.record(vaultId, item.itemId(), name, EXCEEDED, "Warning", exceeded.path("errorMessage").asText(),
                        errors);
            } else if (exceeded == null && open) {
                events.record(vaultId, item.itemId(), name, RECOVERED, "OK", "The RPO of '" + name
                        + "' is back within the policy's threshold.", null);
            }
        }
    }
}
