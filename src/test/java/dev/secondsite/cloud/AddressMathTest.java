package dev.secondsite.cloud;

import dev.secondsite.arm.ArmException;
import dev.secondsite.cloud.network.Cidr;
import dev.secondsite.cloud.network.Ipv4;
import dev.secondsite.cloud.network.NetworkTypes;
import dev.secondsite.cloud.network.SubnetSpec;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** IPv4 parsing, CIDR arithmetic and the subnet allocation order, without a server. */
class AddressMathTest {

    private static long ip(String text) {
        return Ipv4.parse(text).orElseThrow();
    }

    @Test
    void parsesOnlyCanonicalDottedQuads() {
        assertThat(Ipv4.parse("10.0.0.4")).contains(0x0A000004L);
        assertThat(Ipv4.parse("255.255.255.255")).contains(0xFFFFFFFFL);
        assertThat(Ipv4.format(0xC0A80101L)).isEqualTo("192.168.1.1");
        for (String bad : new String[] {"10.0.0", "10.0.0.256", "010.0.0.1", "a.b.c.d", "", "1.2.3.4.5", "-1.2.3.4"}) {
            assertThat(Ipv4.parse(bad)).as(bad).isEmpty();
        }
        assertThat(Ipv4.isPrivate(ip("172.31.255.255"))).isTrue();
        assertThat(Ipv4.isPrivate(ip("172.32.0.0"))).isFalse();
    }

    @Test
    void cidrArithmetic() {
        Cidr c = Cidr.parse("10.0.0.0/27", "f", 2, 29);
        assertThat(c.size()).isEqualTo(32);
        assertThat(c.usableCount()).isEqualTo(27);
        assertThat(Ipv4.format(c.firstUsable())).isEqualTo("10.0.0.4");
        assertThat(Ipv4.format(c.lastUsable())).isEqualTo("10.0.0.30");
        assertThat(c.isReserved(ip("10.0.0.3"))).isTrue();
        assertThat(c.isReserved(ip("10.0.0.31"))).isTrue();
        assertThat(c.isReserved(ip("10.0.0.4"))).isFalse();
        assertThat(c.overlaps(Cidr.of("10.0.0.16/28"))).isTrue();
        assertThat(c.overlaps(Cidr.of("10.0.0.32/28"))).isFalse();
        assertThat(Cidr.of("10.0.0.0/8").contains(c)).isTrue();
        assertThat(Cidr.parse("0.0.0.0/0", "f", 0, 32).size()).isEqualTo(1L << 32);
    }

    @Test
    void cidrErrorsNameTheFieldAndTheFix() {
        assertThatThrownBy(() -> Cidr.parse("10.0.0.9/24", "properties.addressPrefix", 2, 29))
                .isInstanceOfSatisfying(ArmException.class, e -> {
                    assertThat(e.code()).isEqualTo("InvalidCIDRNotation");
                    assertThat(e.target()).isEqualTo("properties.addressPrefix");
                    assertThat(e.getMessage()).contains("10.0.0.0/24");
                });
        assertThatThrownBy(() -> Cidr.parse("10.0.0.0/33", "x", 2, 29))
                .isInstanceOfSatisfying(ArmException.class, e -> assertThat(e.code()).isEqualTo("InvalidAddressPrefixFormat"));
        assertThatThrownBy(() -> Cidr.parse("10.0.0.0", "x", 2, 29))
                .isInstanceOfSatisfying(ArmException.class, e -> assertThat(e.code()).isEqualTo("InvalidAddressPrefixFormat"));
        assertThatThrownBy(() -> Cidr.parse("10.0.0.0/30", "x", 2, 29))
                .isInstanceOfSatisfying(ArmException.class, e -> assertThat(e.code()).isEqualTo("InvalidAddressPrefix"));
    }

    @Test
    void nextFreeIsTheLowestUsableGapAcrossPrefixes() {
        List<Cidr> prefixes = List.of(Cidr.of("10.0.0.0/29"), Cidr.of("10.0.1.0/29"));
        TreeSet<Long> taken = new TreeSet<>();
        assertThat(Ipv4.format(SubnetSpec.nextFree(prefixes, taken).orElseThrow())).isEqualTo("10.0.0.4");
        taken.add(ip("10.0.0.4"));
        taken.add(ip("10.0.0.6"));
        assertThat(Ipv4.format(SubnetSpec.nextFree(prefixes, taken).orElseThrow())).isEqualTo("10.0.0.5");
        taken.add(ip("10.0.0.5"));
        assertThat(Ipv4.format(SubnetSpec.nextFree(prefixes, taken).orElseThrow())).isEqualTo("10.0.1.4");
        taken.add(ip("10.0.1.4"));
        taken.add(ip("10.0.1.5"));
        taken.add(ip("10.0.1.6"));
        assertThat(SubnetSpec.nextFree(prefixes, taken)).isEmpty();
        assertThat(SubnetSpec.usableCount(prefixes)).isEqualTo(6);
        taken.remove(ip("10.0.0.4"));
        assertThat(SubnetSpec.freeAfter(prefixes, taken, ip("10.0.1.5"), 5)).extracting(Ipv4::format)
                .containsExactly("10.0.0.4");
    }

    @Test
    void subnetIdsNameTheirNetwork() {
        String vnet = "/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/virtualNetworks/v";
        assertThat(NetworkTypes.vnetOfSubnet(vnet + "/subnets/a")).isEqualTo(vnet);
        assertThat(NetworkTypes.vnetOfSubnet(vnet)).isNull();
        assertThat(NetworkTypes.vnetOfSubnet("/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/"
                + "virtualMachines/v/subnets/a")).isNull();
    }
}
