import type { OidcClaims } from '../../auth/oidc-client.js';
import type { SignInMatch } from '../../people/sign-in.js';
import { h } from '../html.js';
import { plainConsolePage } from './layout.js';

// The pages OpenID Connect sign-in ends on when it cannot let the browser in: each says what
// happened and what to do, never a stack trace.

const again = (next: string, tenant?: string) =>
  `/console/oidc/login?${new URLSearchParams({ next, ...(tenant ? { tenant } : {}) }).toString()}`;

/** A sign-in that failed (provider refusal, tampered or stale response, provider unreachable). */
export function signInFailedPage(message: string, next = '/console/approvals'): string {
  return plainConsolePage({
    title: 'Sign-in failed',
    body: `<h2>Cannot sign you in</h2>
<p class="flash bad" role="alert" id="signin-problem">${h(message)}</p>
<p><a href="${h(again(next))}">Start again</a> · <a href="/console">Sign-in page</a></p>`,
  });
}

/** The provider vouched for someone the people directory does not know (or not unambiguously). */
export function notMatchedPage(match: Exclude<SignInMatch, { kind: 'person' }>, claims: OidcClaims, next: string): string {
  const identity = `oidc:${claims.sub}`;
  if (match.kind === 'several') {
    const links = match.tenants.map((t) => `<li><a href="${h(again(next, t))}">Sign in to ${h(t)}</a></li>`).join('');
    return plainConsolePage({
      title: 'Choose a tenant',
      body: `<h2>Which tenant?</h2>
<p id="signin-problem">Your account matches people in ${match.tenants.length} tenants. Choose the one to sign in to (your provider may ask you again):</p>
<ul class="tenants">${links}</ul>`,
    });
  }
  const advice =
    match.kind === 'other_subject'
      ? `The email ${claims.email ?? ''} belongs to ${match.person.display_name} (${match.person.handle}), who signs in with another account of this provider. If this account is also theirs, an admin can link the identity ${identity} to them.`
      : `No person in Levqor matches your account (${claims.email ? `email ${claims.email}${claims.emailVerified ? '' : ', which your provider does not mark as verified'}` : 'no email from your provider'}). Ask a Levqor admin to add you to the people directory with this email, or to link the identity ${identity} to you.`;
  return plainConsolePage({
    title: 'Not signed in',
    body: `<h2>You are not a Levqor user here</h2>
<p class="flash bad" role="alert" id="signin-problem">${h(advice)}</p>
<p><a href="/console">Sign-in page</a></p>`,
  });
}

/** Signed in: the page sends the browser on (a fresh same-site navigation, which carries the session cookie). */
export function signedInPage(displayName: string, next: string): string {
  return plainConsolePage({
    title: 'Signed in',
    body: `<h2>Signed in as ${h(displayName)}</h2>
<p><a id="continue" href="${h(next)}">Continue to the console</a></p>`,
  });
}
