import { z } from 'zod';
import { actorOf } from '../../auth/tokens.js';
import type { Db } from '../../db/types.js';
import { getPeopleSettings, listPeople } from '../../people/queries.js';
import { handleSchema, identitySchema, personPatchSchema, personSpecSchema, slackTeamSchema } from '../../people/schema.js';
import { addPerson, editPerson, linkIdentity, removePerson, requirePerson, setAutolink, unlinkIdentity } from '../../people/service.js';
import { peopleListReply, peopleSettingsReply, personRemovedReply, personReply } from '../responses.js';
import type { Router } from '../route.js';

const handleParams = z.object({ handle: handleSchema }).strict();
const identityParams = z.object({ handle: handleSchema, identity: identitySchema }).strict();
const linkBody = z.object({ identity: identitySchema, slack_team_id: slackTeamSchema.optional() }).strict();
const NOT_FOUND = { 404: 'no person with that handle in this tenant' };

/** The people directory: anyone with a token reads it; changes need people:write and are audited. */
export function peopleRoutes(router: Router, db: Db): void {
  router.add({
    method: 'GET',
    url: '/api/people',
    operationId: 'listPeople',
    tag: 'people',
    token: 'required',
    summary: "The tenant's people: handle, name, email, role and linked identities",
    replies: { 200: peopleListReply },
    handler: async ({ auth }) => ({ people: await listPeople(db, auth.tenant_id) }),
  });
  router.add({
    method: 'GET',
    url: '/api/people/:handle',
    operationId: 'getPerson',
    tag: 'people',
    token: 'required',
    params: handleParams,
    summary: 'One person with their linked identities',
    replies: { 200: personReply },
    errors: NOT_FOUND,
    handler: async ({ params, auth }) => ({ person: await requirePerson(db, auth.tenant_id, params.handle) }),
  });
  router.add({
    method: 'POST',
    url: '/api/people',
    operationId: 'addPerson',
    tag: 'people',
    scope: 'people:write',
    body: personSpecSchema,
    status: 201,
    summary: 'Add a person (role approver unless given), with any identities to link',
    replies: { 201: personReply },
    errors: { 409: 'the handle or email is taken, or an identity is linked to someone else' },
    handler: async ({ body, auth }) => ({ person: await db.transaction((tx) => addPerson(tx, auth.tenant_id, body, actorOf(auth))) }),
  });
  router.add({
    method: 'PUT',
    url: '/api/people/:handle',
    operationId: 'editPerson',
    tag: 'people',
    scope: 'people:write',
    params: handleParams,
    body: personPatchSchema,
    summary: "Change a person's name, email or role (a role change ends their console sessions)",
    replies: { 200: personReply },
    errors: { ...NOT_FOUND, 409: 'the email belongs to another person' },
    handler: async ({ params, body, auth }) => ({
      person: await db.transaction((tx) => editPerson(tx, auth.tenant_id, params.handle, body, actorOf(auth))),
    }),
  });
  router.add({
    method: 'DELETE',
    url: '/api/people/:handle',
    operationId: 'removePerson',
    tag: 'people',
    scope: 'people:write',
    params: handleParams,
    summary: 'Remove a person: identities unlinked, console sessions ended; past votes keep the handle',
    replies: { 200: personRemovedReply },
    errors: NOT_FOUND,
    handler: async ({ params, auth }) => {
      await db.transaction((tx) => removePerson(tx, auth.tenant_id, params.handle, actorOf(auth)));
      return { handle: params.handle, removed: true as const };
    },
  });
  router.add({
    method: 'POST',
    url: '/api/people/:handle/identities',
    operationId: 'linkIdentity',
    tag: 'people',
    scope: 'people:write',
    params: handleParams,
    body: linkBody,
    summary: 'Link an identity (slack:U…, github:login, oidc:subject, token:name, cli:user, email:address) to a person',
    replies: { 200: personReply },
    errors: { ...NOT_FOUND, 409: 'the identity is linked to another person' },
    handler: async ({ params, body, auth }) => ({
      person: await db.transaction(async (tx) => {
        const link = { identity: body.identity, slackTeamId: body.slack_team_id ?? null };
        await linkIdentity(tx, auth.tenant_id, params.handle, link, actorOf(auth));
        return requirePerson(tx, auth.tenant_id, params.handle);
      }),
    }),
  });
  router.add({
    method: 'DELETE',
    url: '/api/people/:handle/identities/:identity',
    operationId: 'unlinkIdentity',
    tag: 'people',
    scope: 'people:write',
    params: identityParams,
    summary: 'Unlink an identity from a person',
    replies: { 200: personReply },
    errors: { 404: 'no such person, or the identity is not linked to them' },
    handler: async ({ params, auth }) => ({
      person: await db.transaction(async (tx) => {
        await unlinkIdentity(tx, auth.tenant_id, params.handle, params.identity, actorOf(auth));
        return requirePerson(tx, auth.tenant_id, params.handle);
      }),
    }),
  });
  router.add({
    method: 'GET',
    url: '/api/people-settings',
    operationId: 'getPeopleSettings',
    tag: 'people',
    token: 'required',
    summary: "The tenant's directory settings: whether Slack users are linked by verified email",
    replies: { 200: peopleSettingsReply },
    handler: async ({ auth }) => getPeopleSettings(db, auth.tenant_id),
  });
  router.add({
    method: 'PUT',
    url: '/api/people-settings',
    operationId: 'setPeopleSettings',
    tag: 'people',
    scope: 'people:write',
    body: z.object({ slack_autolink: z.boolean() }).strict(),
    summary: 'Turn linking Slack users to people by verified email (users.info) on or off',
    replies: { 200: peopleSettingsReply },
    handler: async ({ body, auth }) => {
      await db.transaction((tx) => setAutolink(tx, auth.tenant_id, body.slack_autolink, actorOf(auth)));
      return getPeopleSettings(db, auth.tenant_id);
    },
  });
}
