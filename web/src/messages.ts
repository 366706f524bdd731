// Every text the portals show, in one catalogue: a translation is a copy of this file.

export const messages = {
  appName: 'portal',
  skipToContent: 'Skip to the content',
  loading: 'Loading…',
  chooser: {
    title: 'Find your portal',
    intro: 'Enter the code of your organization, as its e-mails and help pages give it.',
    code: 'Organization code',
    submit: 'Continue',
  },
  organization: {
    notFound: (code: string) => `There is no portal with the code “${code}”.`,
    choose: 'Choose another organization',
  },
  signIn: {
    title: 'Sign in',
    login: 'E-mail address or username',
    password: 'Password',
    submit: 'Sign in',
    busy: 'Signing in…',
    secondStepTitle: 'Two-step verification',
    secondStepIntro: 'Enter the six-digit code from your authenticator app, or one of your recovery codes.',
    code: 'Code',
    verify: 'Verify',
  },
  home: {
    title: 'Your portal',
    welcome: (name: string) => `Welcome, ${name}.`,
    signedInAs: (email: string) => `Signed in as ${email}.`,
    signOut: 'Sign out',
    signedOut: 'You are signed out.',
  },
  errors: {
    problem: 'Please fix the problem below.',
    problems: (n: number) => `Please fix the ${n} problems below.`,
    network: 'The portal cannot be reached. Check your connection and try again.',
    unexpected: 'Something went wrong. Please try again.',
  },
} as const;
