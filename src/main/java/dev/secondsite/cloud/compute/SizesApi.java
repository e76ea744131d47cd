package dev.secondsite.cloud.compute;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.ArmRequest;
import dev.secondsite.arm.ArmResponse;
import dev.secondsite.arm.Json;
import dev.secondsite.cloud.Region;
import dev.secondsite.cloud.Regions;
import dev.secondsite.vault.ResourceGroups;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The size catalogue as Azure serves it: {@code locations/{loc}/vmSizes} (VirtualMachineSizes_List) and
 * {@code /providers/Microsoft.Compute/skus} (ResourceSkus_List, with the capabilities that tell Hyper-V
 * generations, premium IO, NIC limits and trusted launch support).
 */
public final class SizesApi {
    private static final Pattern LOCATION_FILTER = Pattern.compile("(?i)location\\s+eq\\s+'([^']+)'");

    /** GET /subscriptions/{s}/providers/Microsoft.Compute/locations/{loc}/vmSizes */
    public ArmResponse listVmSizes(ArmRequest request) {
        ResourceGroups.checkSubscription(request.path().subscriptionId());
        Regions.require(request.path().name(0), "location");
        return ArmResponse.ok(vmSizes(VmSizes.all()));
    }

    static ObjectNode vmSizes(Collection<ComputeSize> sizes) {
        ObjectNode list = Json.object();
        ArrayNode value = list.putArray("value");
        for (ComputeSize s : sizes) {
            ObjectNode size = value.addObject();
            size.put("name", s.name());
            size.put("numberOfCores", s.vCpus());
            size.put("osDiskSizeInMB", ComputeSize.OS_DISK_SIZE_MB);
            size.put("resourceDiskSizeInMB", s.resourceDiskMb());
            size.put("memoryInMB", s.memoryMb());
            size.put("maxDataDiskCount", s.maxDataDisks());
        }
        return list;
    }

    /** GET /subscriptions/{s}/providers/Microsoft.Compute/skus[?$filter=location eq 'eastus'] */
    public ArmResponse listSkus(ArmRequest request) {
        ResourceGroups.checkSubscription(request.path().subscriptionId());
        List<Region> regions = new ArrayList<>(Regions.all());
        String filter = request.query().get("$filter");
        if (filter != null) {
            Matcher m = LOCATION_FILTER.matcher(filter);
            if (m.find()) {
                regions = List.of(Regions.require(m.group(1), "$filter"));
            }
        }
        ObjectNode list = Json.object();
        ArrayNode value = list.putArray("value");
        for (ComputeSize s : VmSizes.all()) {
            for (Region region : regions) {
                ObjectNode sku = value.addObject();
                sku.put("resourceType", "virtualMachines");
                sku.put("name", s.name());
                sku.put("tier", "Standard");
                sku.put("size", s.name().substring("Standard_".length()));
                sku.put("family", s.family());
                sku.putArray("locations").add(region.name());
                ObjectNode info = sku.putArray("locationInfo").addObject();
                info.put("location", region.name());
                info.putArray("zones");
                info.putArray("zoneDetails");
                ArrayNode caps = sku.putArray("capabilities");
                capability(caps, "MaxResourceVolumeMB", s.resourceDiskMb());
                capability(caps, "OSVhdSizeMB", ComputeSize.OS_DISK_SIZE_MB);
                capability(caps, "vCPUs", s.vCpus());
                capability(caps, "MemoryGB", trim(s.memoryMb() / 1024.0));
                capability(caps, "MaxDataDiskCount", s.maxDataDisks());
                capability(caps, "HyperVGenerations", s.hyperVGenerations());
                capability(caps, "PremiumIO", s.premiumIo() ? "True" : "False");
                capability(caps, "vCPUsAvailable", s.vCpus());
                capability(caps, "MaxNetworkInterfaces", s.maxNics());
                if (!s.trustedLaunch()) {
                    capability(caps, "TrustedLaunchDisabled", "True");
                }
                sku.putArray("restrictions");
            }
        }
        return ArmResponse.ok(list);
    }

    private static void capability(ArrayNode caps, String name, Object value) {
        ObjectNode c = caps.addObject();
        c.put("name", name);
        c.put("value", String.valueOf(value));
    }

    private static String trim(double d) {
        return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
    }
}
