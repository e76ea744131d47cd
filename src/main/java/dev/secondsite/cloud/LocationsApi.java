package dev.secondsite.cloud;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.ArmRequest;
import dev.secondsite.arm.ArmResponse;
import dev.secondsite.arm.Json;
import dev.secondsite.vault.ResourceGroups;

/** GET /subscriptions/{s}/locations: the regions, ARM-shaped, with the cloud and geo code of each. */
public final class LocationsApi {

    public ArmResponse list(ArmRequest request) {
        String subscription = request.path().name(0);
        ResourceGroups.checkSubscription(subscription);
        ObjectNode list = Json.object();
        ArrayNode value = list.putArray("value");
        for (Region region : Regions.all()) {
            ObjectNode r = value.addObject();
            r.put("id", "/subscriptions/" + subscription + "/locations/" + region.name());
            r.put("name", region.name());
            r.put("type", "Region");
            r.put("displayName", region.displayName());
            r.put("regionalDisplayName", "(" + region.geography() + ") " + region.displayName());
            ObjectNode metadata = r.putObject("metadata");
            metadata.put("regionType", "Physical");
            metadata.put("regionCategory", "Recommended");
            metadata.put("geography", region.geography());
            metadata.put("cloud", region.cloud().displayName());
            metadata.put("geoCode", region.geoCode());
            metadata.put("premiumStorageReplicationSupported", region.premiumReplication());
        }
        return ArmResponse.ok(list);
    }
}
