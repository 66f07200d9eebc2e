package io.execfarm.contracts;

/** Kafka topic names of protocol v1. */
public final class Topics {

    public static final String REQUESTS_PREFIX = "execfarm.requests.";
    public static final String REPLIES = "execfarm.replies";
    public static final String CONTROL = "execfarm.control";
    public static final String DEAD_LETTERS = "execfarm.requests.dlq";
    /**
     * Where tenants' own topics live, {@code execfarm.tenant.<tenant>.<name>}: a tenant's ACLs name
     * its prefix, and a worker may write events there.
     */
    public static final String TENANT_PREFIX = "execfarm.tenant.";

    private Topics() {
    }

    /** The topic carrying requests for one runtime, e.g. {@code execfarm.requests.julia}. */
    public static String requests(String runtime) {
        if (!WireNames.isRuntime(runtime)) {
            throw new IllegalArgumentException("not a runtime name: " + runtime);
        }
        return REQUESTS_PREFIX + runtime;
    }

    /**
     * Whether a topic is one the farm reads or writes for its own work (every request topic, the
     * dead-letter topic, control) or one of Kafka's (their names start with "__"). A request's
     * events never go there: a sender could otherwise have the worker write into the farm's own
     * streams.
     */
    public static boolean isFarmOwned(String topic) {
        return topic.startsWith(REQUESTS_PREFIX) || topic.equals(CONTROL) || topic.startsWith("__");
    }

    /** Where tenants publish requests and cancels: one topic each, {@code execfarm.ingress.<tenant>}. */
    public static final String INGRESS_PREFIX = "execfarm.ingress.";

    /** The dispatchers' consumer group that forwards every tenant's ingress topic. */
    public static final String INGRESS_GROUP = "execfarm-ingress";

    /** The prefix of one tenant's topics, e.g. {@code execfarm.tenant.acme.}: its reply topics and consumer groups. */
    public static String tenantTopics(String tenant) {
        return TENANT_PREFIX + WireNames.requireKafkaTenant(tenant) + ".";
    }

    /** The reply topic made with a tenant, e.g. {@code execfarm.tenant.acme.replies}. */
    public static String tenantReplies(String tenant) {
        return tenantTopics(tenant) + "replies";
    }

    /** The one topic a tenant writes to, e.g. {@code execfarm.ingress.acme}. */
    public static String ingress(String tenant) {
        return INGRESS_PREFIX + WireNames.requireKafkaTenant(tenant);
    }

    /**
     * The topic carrying one runtime's requests that name no session to a share group, e.g.
     * {@code execfarm.requests.julia.shared}: any worker takes any record, in no particular order.
     */
    public static String sharedRequests(String runtime) {
        return requests(runtime) + ".shared";
    }
}
