package io.execfarm.accounts;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

/**
 * What the broker's admin does for every user it makes, service or tenant: a SCRAM credential,
 * ACLs that allow, and waiting until the broker enforces both (the controller commits them; the
 * broker applies them a moment later, and a client that logs in before would be refused).
 */
final class BrokerAccess {

    /** Kafka's minimum for SCRAM-SHA-512: each login costs its client this many hash rounds. */
    private static final int SCRAM_ITERATIONS = 4096;
    static final Duration SETTLE = Duration.ofSeconds(30);

    private BrokerAccess() {
    }

    static UserScramCredentialUpsertion user(String name, String password) {
        return new UserScramCredentialUpsertion(name, new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, SCRAM_ITERATIONS),
                password);
    }

    /** Adds an ALLOW binding per operation for {@code user} on one resource pattern. */
    static void allow(List<AclBinding> grants, String user, ResourceType type, PatternType pattern, String name,
            AclOperation... operations) {
        for (AclOperation operation : operations) {
            grants.add(new AclBinding(new ResourcePattern(type, name, pattern),
                    new AccessControlEntry("User:" + user, "*", operation, AclPermissionType.ALLOW)));
        }
    }

    /** Creates (or updates) the users and grants, and returns once the broker enforces them all. */
    static void grant(Admin admin, List<UserScramCredentialUpsertion> users, List<AclBinding> grants)
            throws ExecutionException, InterruptedException, TimeoutException {
        await(admin.alterUserScramCredentials(List.copyOf(users)).all());
        await(admin.createAcls(grants).all());
        long deadline = System.nanoTime() + SETTLE.toNanos();
        while (!await(admin.describeAcls(AclBindingFilter.ANY).values()).containsAll(grants)) {
            if (System.nanoTime() > deadline) {
                throw new TimeoutException("the broker did not enforce the grants within " + SETTLE.toSeconds() + " s");
            }
            Thread.sleep(50);
        }
    }

    /** Waits until {@code login} is accepted: a user made a moment ago may not have reached the broker yet. */
    static void awaitLogin(KafkaLogin login) {
        long deadline = System.nanoTime() + SETTLE.toNanos();
        while (true) {
            try (Admin kafka = Admin.create(login.clientSettings())) {
                kafka.describeCluster().clusterId().get(SETTLE.toSeconds(), TimeUnit.SECONDS);
                return;
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof SaslAuthenticationException) || System.nanoTime() > deadline) {
                    throw new IllegalStateException(login + " cannot log in: " + e.getCause(), e);
                }
            } catch (TimeoutException e) {
                throw new IllegalStateException(login + " cannot log in: " + e, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
            pause();
        }
    }

    static <T> T await(KafkaFuture<T> future) throws ExecutionException, InterruptedException, TimeoutException {
        return future.get(SETTLE.toSeconds(), TimeUnit.SECONDS);
    }

    /** What a failed admin call was, for a message: its cause, unwrapped. */
    static IllegalStateException failed(String what, Exception e) {
        if (e instanceof InterruptedException) {
            Thread.currentThread().interrupt();
        }
        Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
        return new IllegalStateException("could not " + what + ": " + cause, cause);
    }

    private static void pause() {
        try {
            Thread.sleep(50);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
