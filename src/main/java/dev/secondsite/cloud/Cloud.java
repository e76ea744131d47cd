package dev.secondsite.cloud;

/** The cloud a region belongs to. Government clouds are separate: seed 000 and 001 rules depend on it. */
public enum Cloud {
    PUBLIC("AzureCloud"),
    US_GOV("AzureUSGovernment"),
    US_DOD("AzureUSGovernment (DoD)");

    private final String displayName;

    Cloud(String displayName) {
        this.displayName = displayName;
    }

    public String displayName() {
        return displayName;
    }

    public boolean government() {
        return this != PUBLIC;
    }
}
