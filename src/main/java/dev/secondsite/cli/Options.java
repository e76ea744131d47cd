package dev.secondsite.cli;

import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Options shared by many commands, as picocli mixins. */
final class Options {
    private Options() {}

    /** -h/--help only: subcommands have no version of their own. */
    static final class Help {
        @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
        boolean help;
    }

    static final class Subscription {
        @Option(names = "--subscription", paramLabel = "ID",
                description = "Subscription id (default: the profile's, else " + Profile.DEFAULT_SUBSCRIPTION + ").")
        String id;

        /** {@code /subscriptions/{id}} */
        String path(ApiClient api) {
            return "/subscriptions/" + ApiClient.seg(api.subscription(id));
        }
    }

    /** For list commands: one resource group with -g, else the whole subscription. */
    static class ListScope {
        @Option(names = {"-g", "--resource-group"}, paramLabel = "RG", description = "Only this resource group.")
        String group;
        @Mixin Subscription subscription;

        /** {@code /subscriptions/{id}}, or {@code /subscriptions/{id}/resourceGroups/{group}} with -g. */
        String path(ApiClient api) {
            return subscription.path(api) + (group == null ? "" : "/resourceGroups/" + ApiClient.seg(group));
        }
    }

    /** Subscription, resource group and vault: the scope of every Site Recovery resource. */
    static final class Vault {
        @Mixin
        Subscription subscription;

        @Option(names = {"-g", "--resource-group"}, required = true, paramLabel = "RG", description = "Resource group.")
        String group;

        @Option(names = "--vault", required = true, paramLabel = "VAULT", description = "Recovery Services vault.")
        String vault;

        /** The vault's ARM id, as request bodies refer to it. */
        String id(ApiClient api) {
            return "/subscriptions/" + api.subscription(subscription.id) + "/resourceGroups/" + group
                    + "/providers/Microsoft.RecoveryServices/vaults/" + vault;
        }

        /** The vault's ARM path for URLs: the id with each name percent-encoded (no api-version). */
        String path(ApiClient api) {
            return subscription.path(api) + "/resourceGroups/" + ApiClient.seg(group)
                    + "/providers/Microsoft.RecoveryServices/vaults/" + ApiClient.seg(vault);
        }
    }

    static final class Format {
        @Option(names = {"-o", "--output"}, defaultValue = "table", paramLabel = "FORMAT",
                description = "Output format: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
        Output.Format format;
    }

    static final class Wait {
        @Option(names = "--no-wait", description = "Do not wait for the operation to finish: print its job id and exit.")
        boolean noWait;
    }

    /** Reads repeated {@code --tag k=v} values into the ARM "tags" object. */
    static Map<String, String> tags(List<String> values) {
        Map<String, String> tags = new LinkedHashMap<>();
        for (String value : values == null ? List.<String>of() : values) {
            int eq = value.indexOf('=');
            if (eq <= 0) {
                throw CliException.usage("invalid --tag '" + value + "': use KEY=VALUE");
            }
            tags.put(value.substring(0, eq), value.substring(eq + 1));
        }
        return tags;
    }
}
