import io.execfarm.client.ClientSettings;
import io.execfarm.client.Execution;
import io.execfarm.client.FarmClient;
import io.execfarm.client.Job;
import io.execfarm.contracts.Output;

/** Julia code on the farm, its output as it runs, then its result: as the Kafka tenant the environment names. */
public class RunOnFarm {
    public static void main(String[] args) throws Exception {
        String code = args.length > 0 ? args[0] : "for i in 1:3\n    println(\"step \", i)\n    sleep(0.2)\nend\n6 * 7";
        try (FarmClient farm = FarmClient.connect(ClientSettings.fromEnvironment(System.getenv()))) {
            Execution run = farm.run(Job.of("julia", code), event -> {
                if (event instanceof Output output) {
                    System.out.print(output.text());
                }
            });
            System.out.println("=> " + run.status() + " " + run.result().value());
        }
    }
}
