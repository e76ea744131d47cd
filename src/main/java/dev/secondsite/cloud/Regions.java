package dev.secondsite.cloud;

import dev.secondsite.arm.ArmException;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/** The region catalogue of the local cloud: public, US Government and US DoD regions. */
public final class Regions {
    private static final Map<String, Region> BY_NAME = new LinkedHashMap<>();

    static {
        pub("eastus", "East US", "eus", "United States");
        pub("eastus2", "East US 2", "eus2", "United States");
        pub("centralus", "Central US", "cus", "United States");
        pub("northcentralus", "North Central US", "ncus", "United States");
        pub("southcentralus", "South Central US", "scus", "United States");
        pub("westcentralus", "West Central US", "wcus", "United States");
        pub("westus", "West US", "wus", "United States");
        pub("westus2", "West US 2", "wus2", "United States");
        pub("westus3", "West US 3", "wus3", "United States");
        pub("canadacentral", "Canada Central", "cnc", "Canada");
        pub("canadaeast", "Canada East", "cne", "Canada");
        pub("brazilsouth", "Brazil South", "brs", "Brazil");
        pub("northeurope", "North Europe", "ne", "Europe");
        pub("westeurope", "West Europe", "we", "Europe");
        pub("uksouth", "UK South", "uks", "United Kingdom");
        pub("ukwest", "UK West", "ukw", "United Kingdom");
        pub("francecentral", "France Central", "frc", "France");
        pub("germanywestcentral", "Germany West Central", "gwc", "Germany");
        pub("switzerlandnorth", "Switzerland North", "szn", "Switzerland");
        pub("norwayeast", "Norway East", "nwe", "Norway");
        pub("swedencentral", "Sweden Central", "sdc", "Sweden");
        pub("eastasia", "East Asia", "ea", "Asia Pacific");
        pub("southeastasia", "Southeast Asia", "sea", "Asia Pacific");
        pub("japaneast", "Japan East", "jpe", "Japan");
        pub("japanwest", "Japan West", "jpw", "Japan");
        pub("koreacentral", "Korea Central", "krc", "Korea");
        pub("koreasouth", "Korea South", "krs", "Korea");
        pub("australiaeast", "Australia East", "ae", "Australia");
        pub("australiasoutheast", "Australia Southeast", "ase", "Australia");
        pub("australiacentral", "Australia Central", "acl", "Australia");
        // Seed 004: no replication to premium storage accounts in Central and South India.
        add(new Region("centralindia", "Central India", Cloud.PUBLIC, "inc", "India", false));
        add(new Region("southindia", "South India", Cloud.PUBLIC, "ins", "India", false));
        pub("westindia", "West India", "inw", "India");
        pub("uaenorth", "UAE North", "uan", "UAE");
        pub("southafricanorth", "South Africa North", "san", "South Africa");
        gov("usgovvirginia", "US Gov Virginia", Cloud.US_GOV, "ugv");
        gov("usgovtexas", "US Gov Texas", Cloud.US_GOV, "ugt");
        gov("usgovarizona", "US Gov Arizona", Cloud.US_GOV, "uga");
        gov("usgoviowa", "US Gov Iowa", Cloud.US_GOV, "ugi");
        gov("usdodeast", "US DoD East", Cloud.US_DOD, "ude");
        gov("usdodcentral", "US DoD Central", Cloud.US_DOD, "udc");
    }

    private Regions() {}

    private static void pub(String name, String display, String geo, String geography) {
        add(new Region(name, display, Cloud.PUBLIC, geo, geography, true));
    }

    private static void gov(String name, String display, Cloud cloud, String geo) {
        add(new Region(name, display, cloud, geo, "US Government", true));
    }

    private static void add(Region region) {
        BY_NAME.put(region.name(), region);
    }

    public static Collection<Region> all() {
        return BY_NAME.values();
    }

    /** "West US", "westus" and "WestUS" all find westus. */
    public static Optional<Region> find(String location) {
        return location == null ? Optional.empty()
                : Optional.ofNullable(BY_NAME.get(location.replace(" ", "").toLowerCase(Locale.ROOT)));
    }

    /** The region, or a 400 naming the field and listing the valid names. */
    public static Region require(String location, String field) {
        return find(location).orElseThrow(() -> new ArmException(400, "LocationNotAvailableForResourceType",
                "The location '" + location + "' is not available. Use one of: "
                        + String.join(", ", BY_NAME.keySet()) + ".", field, List.of()));
    }
}
