import { cookies } from "next/headers";
import { redirect } from "next/navigation";
import type { ReactNode } from "react";
import { Shell } from "@/components/Shell";

const SESSION_COOKIE = "nova_session";

// Every screen but sign-in needs a session. The cookie is httpOnly and first-party (the API
// sets it through our proxy), so the server sees it; the API still checks it on each call.
export default async function SignedInLayout({ children }: { children: ReactNode }) {
  if (!(await cookies()).has(SESSION_COOKIE)) redirect("/login");
  return <Shell>{children}</Shell>;
}
