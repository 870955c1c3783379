/** docs/connecting.md stays true to the program: its outputs, URLs, DNS names, jump host and host-key resource. */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { OUTPUT_NAMES } from "../../outputs";
import { named, ROOT, runOk, stackConfig } from "../../scripts/mock-program";

const page = fs.readFileSync(path.join(ROOT, "docs", "connecting.md"), "utf8");

describe("docs/connecting.md: what an operator does after pulumi up", () => {
  it("names only outputs the stack exports, and shows the dev stack's urls as the program makes them", async () => {
    const dev = await runOk("dev", stackConfig("dev"));
    for (const [, name] of page.matchAll(/pulumi stack output (\w+)/g))
      assert.ok((OUTPUT_NAMES as readonly string[]).includes(name) || name in dev.outputs, `no output ${name}`);
    const shown = JSON.parse(/pulumi stack output urls\n```\n[\s\S]*?```json\n([\s\S]*?)```/.exec(page)![1]);
    const urls = dev.outputs.urls as Record<string, string>;
    assert.deepEqual(Object.keys(shown).sort(), Object.keys(urls).sort());
    for (const [k, v] of Object.entries(shown)) if (k !== "kubernetesApi") assert.equal(v, urls[k], k);
  });

  it("the DNS records are a wildcard and the domain itself, for the dev stack's clusterDomain, at the ingress address", () => {
    const domain = String(stackConfig("dev")["oci-k8s:clusterDomain"]);
    assert.match(page, new RegExp(`\\| \`\\*\\.${domain.replace(/\./g, "\\.")}\` \\| A \\| \`<ingressPublicIp>\` \\|`));
    assert.match(page, new RegExp(`\\| \`${domain.replace(/\./g, "\\.")}\` \\| A \\| \`<ingressPublicIp>\` \\|`));
  });

  it("the jump host it names is prd's public node, and the host-key resource it reads exists", async () => {
    const nodes = stackConfig("prd")["oci-k8s:nodes"] as { name: string; subnet?: string }[];
    const jump = nodes.find((n) => n.subnet === "public")!.name;
    assert.ok(page.includes(`prd's \`${jump}\``), `the page names ${jump} as prd's jump host`);
    const dev = await runOk("dev", stackConfig("dev"));
    assert.ok(named(dev, "tls:index/privateKey:PrivateKey", "server-1-host-key"));
    assert.match(page, /endswith\("::server-1-host-key"\)\) \| \.outputs\.publicKeyOpenssh'/);
  });

  it("README and the platform page link it", () => {
    assert.match(fs.readFileSync(path.join(ROOT, "README.md"), "utf8"), /\(docs\/connecting\.md\)/);
    assert.match(fs.readFileSync(path.join(ROOT, "docs", "platform.md"), "utf8"), /\(connecting\.md\)/);
  });
});
