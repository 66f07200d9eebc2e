package io.execfarm.farm;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Whether the kcat on PATH can log in with SCRAM to a Kafka 4 broker: its librdkafka is 2.6.1 or later. */
final class KcatVersion {

    private static final Pattern LIBRDKAFKA = Pattern.compile("librdkafka (\\d+)\\.(\\d+)\\.(\\d+)");

    private KcatVersion() {
    }

    static boolean scramWorks() throws InterruptedException {
        try {
            Process kcat = new ProcessBuilder("kcat", "-V").redirectErrorStream(true).start();
            String version = new String(kcat.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            kcat.waitFor(10, TimeUnit.SECONDS);
            return atLeast2_6_1(version);
        } catch (IOException e) {
            return false;
        }
    }

    static boolean atLeast2_6_1(String versionText) {
        Matcher m = LIBRDKAFKA.matcher(versionText);
        if (!m.find()) {
            return false;
        }
        int[] v = {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3))};
        return v[0] > 2 || v[0] == 2 && (v[1] > 6 || v[1] == 6 && v[2] >= 1);
    }
}
