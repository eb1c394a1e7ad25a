// Loads the jar's native library for this JVM's platform (JNA picks linux-x86-64/ or linux-aarch64/
// from the classpath) and makes calls through it: the embedded simulator starts, a blocking client
// asks it for the reseller id, and the platform JNA resolved is printed.
import dev.cttonboard.BlockingClient;
import dev.cttonboard.Ctt;
import dev.cttonboard.Simulator;

public final class JarCheck {
    public static void main(String[] args) throws Exception {
        try (Simulator sim = Ctt.startSimulator();
             BlockingClient client = new BlockingClient(Ctt.builderFor(sim).build())) {
            long reseller = client.resellerId();
            System.out.println("jar check: os.arch=" + System.getProperty("os.arch")
                + " jna prefix=" + com.sun.jna.Platform.RESOURCE_PREFIX
                + " resellerId=" + reseller);
        }
    }
}
