import org.codelibs.opensearch.runner.OpenSearchRunner;

/* One OpenSearch node on 127.0.0.1 for the tests: Launcher HOME HTTP_PORT TRANSPORT_PORT [key=value…].
 * It runs until the process is ended (SIGTERM closes the node). */
public final class Launcher {
    public static void main(String[] args) throws Exception {
        OpenSearchRunner runner = new OpenSearchRunner();
        runner.setMaxHttpPort(-1);	/* the ports are given: probe none */
        runner.onBuild((number, s) -> {
            s.put("network.host", "127.0.0.1");
            s.put("http.port", args[1]);
            s.put("transport.port", args[2]);
            s.put("discovery.type", "single-node");
            s.putList("node.roles", "cluster_manager", "data", "ingest");
            s.put("cluster.routing.allocation.disk.threshold_enabled", false);
            for (int i = 3; i < args.length; i++)
                s.put(args[i].substring(0, args[i].indexOf('=')), args[i].substring(args[i].indexOf('=') + 1));
        }).build(OpenSearchRunner.newConfigs().basePath(args[0]).numOfNode(1).clusterName("cairn-test"));
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try { runner.close(); } catch (Exception e) { /* ending anyway */ }
        }));
        Thread.currentThread().join();
    }
}
