package dev.cttonboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.cttonboard.ffi.*;
import dev.cttonboard.sim.*;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The blocking API from plain Java: no coroutines, checked CttException subclasses. */
class JavaCallersTest {
    @Test
    void blockingClientFromPlainJava() throws Exception {
        try (Simulator sim = Ctt.startSimulator();
             BlockingClient client = new BlockingClient(Ctt.builderFor(sim).callbackKey("java-callback-key-0123456789".getBytes(StandardCharsets.UTF_8)).build())) {
            long resellerId = client.resellerId();
            assertEquals(sim.resellerId(), resellerId);
            List<SbcGateway> gateways = client.sbcGateways(resellerId);
            assertEquals("US-East", gateways.get(0).getSbcGatewayRegion());
            assertEquals(3, client.pbxTypes(resellerId).size());

            String name = "Java " + UUID.randomUUID();
            NewEnterprise body = Ctt.newEnterprise(name, List.of(Service.Sms.INSTANCE, Service.Chat.INSTANCE));
            body.setRestrictAdminAccess(true);
            long id = client.createEnterprise(body);
            assertTrue(id > 0);
            assertEquals(id, client.findEnterprise(resellerId, name).getEnterpriseId());

            try {
                client.createEnterprise(body);
                fail("a duplicate name must be refused");
            } catch (CttException.Conflict e) {
                assertEquals("conflict", e.getCode());
                assertEquals(Integer.valueOf(409), e.getStatus());
                assertNotNull(e.getRequestId());
            }

            String url = client.actionItemUrl(ActionType.Registration.INSTANCE, name, "https://portal.example/cb");
            SimCallback callback = Blocking.approveBlocking(sim, url, "contoso");
            CallbackPayload payload = CallbackPayload.Companion.parse(callback.getBody());
            assertTrue(payload.isGlobalAdmin());
            assertTrue(client.o365UserInfo(payload.authenticationResult()).getContainsTeamsTenantAdminApi());

            Onboarding flow = new Onboarding(Ctt.plan(Ctt.newEnterprise("Flow " + UUID.randomUUID(), List.of(Service.Chat.INSTANCE)), "https://portal.example/cb"));
            Progress progress = Blocking.advanceBlocking(flow, client.getClient());
            Progress.AwaitingAdmin awaiting = assertInstanceOf(Progress.AwaitingAdmin.class, progress);
            assertEquals(ActionType.Registration.INSTANCE, awaiting.getAction());

            // A checkpoint from Java: a lambda over FlowCheckpoint, with the revisions as long.
            Onboarding saved = new Onboarding(Ctt.plan(Ctt.newEnterprise("Saved " + UUID.randomUUID(), List.of(Service.Chat.INSTANCE)), "https://portal.example/cb"));
            List<Long> revisions = new java.util.ArrayList<>();
            Progress first = Blocking.advanceBlocking(saved, client.getClient(), (snapshot, previousRevision) -> {
                assertEquals(revisions.isEmpty() ? 0L : revisions.get(revisions.size() - 1), previousRevision);
                try {
                    revisions.add(snapshot.revision());
                } catch (CttException e) {
                    // FlowCheckpoint.save declares no checked exception: an unchecked one fails
                    // the advance with CttException.FlowState.
                    throw new IllegalStateException(e);
                }
            });
            assertInstanceOf(Progress.AwaitingAdmin.class, first);
            assertTrue(revisions.size() >= 2, "saved before the create and after it: " + revisions);
            assertEquals(saved.revision(), revisions.get(revisions.size() - 1));
        }
    }
}
