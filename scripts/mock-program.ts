/**
 * Runs the whole program (index.ts) under Pulumi's mock runtime for a given stack config and
 * records every registered resource with its inputs, parent, dependencies and secret inputs.
 * No provider plugin runs and nothing leaves this process.
 */
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { keepLog, LogLine, PRINT_LOGS_ENV } from "./mock-log";
import { MOCK_BCRYPT, MOCK_KEY_BASE64, MOCK_TOKEN, mockStdout } from "./mock-values";
import { stackConfigFrom } from "./stack-file";
import { CONFIG_KEYS, PROJECT, reportPlaceholdersOffline } from "../config";

export const ROOT = path.resolve(__dirname, "..");

export interface Registered {
  readonly type: string;
  readonly name: string;
  readonly urn: string;
  readonly inputs: Record<string, any>;
  readonly parent: string;
  readonly dependencies: string[];
  /** Top-level input names whose values were sent as secrets. */
  readonly secretInputs: string[];
  /** Input paths the resource's ignoreChanges option names. */
  readonly ignoreChanges: string[];
  /** Outputs the resource's additionalSecretOutputs option names. */
  readonly additionalSecretOutputs: string[];
  /** Provider reference (URN::id) the resource was registered with, if any. */
  readonly provider: string;
  /** Whether a replacement deletes the old resource before creating the new one. */
  readonly deleteBeforeReplace?: boolean;
  /** A read of an existing resource (a StackReference), not something the program creates. */
  readonly read?: boolean;
}

export interface RunResult {
  readonly resources: Registered[];
  readonly outputs: Record<string, unknown>;
  /** Output names whose values are secret. */
  readonly secretOutputs: string[];
  /** What the program logged (pulumi.log.info and warn), in order: the free-tier and capacity tables among it. */
  readonly logs: LogLine[];
  readonly error?: Error;
}

export interface MockWorld {
  /** Availability domains the region answers with. */
  readonly availabilityDomains?: string[];
  /** Images the image lookup answers with (all shapes). */
  readonly images?: { id: string; displayName: string; timeCreated: string }[];
  /** Outputs of other stacks, by stack name, for StackReferences. */
  readonly stackOutputs?: Record<string, Record<string, unknown>>;
  /** Which of those outputs are secret, by stack name. */
  readonly stackSecretOutputs?: Record<string, string[]>;
  /** Config keys set in plain text although the program declares them secret (default: none). */
  readonly plainSecrets?: readonly string[];
  /** The program to run (default: this project's index.ts); `project` is its Pulumi project name. */
  readonly program?: string;
  readonly project?: string;
  /** Compartments GetCompartment answers with, by OCID (default: any compartment sits under MOCK_TENANCY, named MOCK_COMPARTMENT_NAME). */
  readonly compartments?: Record<string, { name: string; compartmentId: string }>;
  /**
   * Where the program's log goes: "keep" (the default) records it in the result only, so a suite
   * stays quiet unless a test is about the log (or OCI_K8S_TEST_LOGS=1 asks); "print" also
   * prints it as the CLI does (the offline plan).
   */
  readonly log?: "keep" | "print";
  /**
   * The examples' placeholders (documentation addresses, the example compartment): "report" (the
   * default: this runtime is offline and creates nothing) logs them as the offline plan does;
   * "refuse" runs the program as pulumi preview and up do, which stop on them.
   */
  readonly placeholders?: "report" | "refuse";
  /** kubeadm: the first server's machine was replaced and the cluster lives on (its rejoin-material prints material). */
  readonly firstServerReplaced?: boolean;
  /**
   * What remote commands printed, by resource name, where a test ran them for real (join
   * material, a kubeconfig): the engine passes a command's stdout on to what reads it.
   */
  readonly commandStdout?: Readonly<Record<string, string>>;
}

/** The tenancy and the compartment name the mock's Oracle answers with unless a test says otherwise. */
export const MOCK_TENANCY = "ocid1.tenancy.oc1..aaaaaaaamocktenancy";
export const MOCK_COMPARTMENT_NAME = "oci-k8s";

export const FRANKFURT_ADS = ["Uocm:EU-FRANKFURT-1-AD-2", "Uocm:EU-FRANKFURT-1-AD-1", "Uocm:EU-FRANKFURT-1-AD-3"];

/** The availability domains the stack's region answers with (Frankfurt's in the order Oracle lists them). */
function regionAds(config: Record<string, unknown>): string[] {
  const region = String(config["oci:region"] ?? "eu-frankfurt-1");
  if (region === "eu-frankfurt-1") return FRANKFURT_ADS;
  return [1, 2, 3].map((n) => `Uocm:${region.toUpperCase()}-AD-${n}`);
}

/** What Oracle lists for Ubuntu: both architectures, Minimal variants, older builds, another release. */
export const UBUNTU_IMAGES = [
  {
    id: "ocid1.image.oc1.eu-frankfurt-1.arm-old",
    displayName: "Canonical-Ubuntu-24.04-aarch64-2026.08.01-0",
    timeCreated: "2026-08-02T00:00:00Z",
  },
  {
    id: "ocid1.image.oc1.eu-frankfurt-1.arm-new",
    displayName: "Canonical-Ubuntu-24.04-aarch64-2026.10.15-0",
    timeCreated: "2026-10-16T00:00:00Z",
  },
  {
    id: "ocid1.image.oc1.eu-frankfurt-1.arm-minimal",
    displayName: "Canonical-Ubuntu-24.04-Minimal-aarch64-2026.11.01-0",
    timeCreated: "2026-11-02T00:00:00Z",
  },
  {
    id: "ocid1.image.oc1.eu-frankfurt-1.x86-new",
    displayName: "Canonical-Ubuntu-24.04-2026.10.15-0",
    timeCreated: "2026-10-16T00:00:00Z",
  },
  {
    id: "ocid1.image.oc1.eu-frankfurt-1.x86-minimal",
    displayName: "Canonical-Ubuntu-24.04-Minimal-2026.11.01-0",
    timeCreated: "2026-11-02T00:00:00Z",
  },
  {
    id: "ocid1.image.oc1.eu-frankfurt-1.x86-old",
    displayName: "Canonical-Ubuntu-24.04-2026.07.01-0",
    timeCreated: "2026-07-02T00:00:00Z",
  },
  {
    id: "ocid1.image.oc1.eu-frankfurt-1.jammy",
    displayName: "Canonical-Ubuntu-22.04-aarch64-2026.11.10-0",
    timeCreated: "2026-11-11T00:00:00Z",
  },
];

const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const SIG_KEY = "4dabf18193072939515e22adb298388d";

export { readStackFile, SECRET_PLACEHOLDERS, stackConfigFrom } from "./stack-file";
export { PRINT_LOGS_ENV } from "./mock-log";
export { MOCK_BCRYPT, MOCK_JOIN, MOCK_KEY_BASE64, MOCK_TOKEN } from "./mock-values";
export type { LogLine } from "./mock-log";
export type { StackFile } from "./stack-file";

export function stackConfig(stack: string): Record<string, unknown> {
  return stackConfigFrom(path.join(ROOT, `Pulumi.${stack}.yaml`));
}

/** Turns `{ "oci-k8s:key": value }` (or bare keys) into Pulumi's string config map. */
function toPulumiConfig(config: Record<string, unknown>, project: string): Record<string, string> {
  return Object.fromEntries(
    Object.entries(config).map(([k, v]) => [
      k.includes(":") ? k : `${project}:${k}`,
      typeof v === "string" ? v : JSON.stringify(v),
    ]),
  );
}

/** A stable number per resource name, so two runs of the same config register identical inputs. */
function nameNumber(name: string): number {
  return [...name].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 200, 7);
}

function mockState(type: string, name: string, inputs: Record<string, any>, world: MockWorld): Record<string, any> {
  switch (type) {
    case "pulumi:pulumi:StackReference":
      return {
        ...inputs,
        outputs: world.stackOutputs?.[inputs.name] ?? {},
        secretOutputNames: world.stackSecretOutputs?.[inputs.name] ?? [],
      };
    case "oci:Core/instance:Instance":
      return {
        ...inputs,
        privateIp: `10.0.0.${10 + nameNumber(name)}`,
        publicIp: inputs.createVnicDetails?.assignPublicIp === "true" ? `198.51.100.${10 + nameNumber(name)}` : undefined,
      };
    case "oci:Core/vcn:Vcn":
      return { ...inputs, defaultSecurityListId: `${name}-default-security-list-id` };
    case "oci:Core/publicIp:PublicIp":
      return { ...inputs, ipAddress: "192.0.2.10" };
    case "tls:index/privateKey:PrivateKey":
      return {
        ...inputs,
        // Each key its own, named after its resource, so a test can tell whose key went where.
        publicKeyOpenssh: `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGeneratedByTheMockRuntimeOnly${name.replace(/[^A-Za-z0-9]/g, "")}\n`,
        privateKeyOpenssh: `-----BEGIN OPENSSH PRIVATE KEY-----\nmock-private-key-${name}\n-----END OPENSSH PRIVATE KEY-----\n`,
      };
    case "random:index/randomPassword:RandomPassword":
      return { ...inputs, result: MOCK_TOKEN, bcryptHash: MOCK_BCRYPT };
    case "random:index/randomBytes:RandomBytes":
      return { ...inputs, base64: MOCK_KEY_BASE64, hex: Buffer.from(MOCK_KEY_BASE64, "base64").toString("hex") };
    case "command:remote:Command":
      return {
        ...inputs,
        stdout: world.commandStdout?.[name] ?? mockStdout(String(inputs.create ?? ""), world.firstServerReplaced === true),
        stderr: "",
      };
    default:
      return inputs;
  }
}

/** Replaces secret wrappers with their values (whether a value was secret is recorded apart). */
function unwrapSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (value === null || typeof value !== "object") return value;
  const obj = value as Record<string, unknown>;
  if (obj[SIG_KEY] === SECRET_SIG) return unwrapSecrets(obj.value);
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, unwrapSecrets(v)]));
}

function secretPaths(value: unknown): boolean {
  if (value === null || typeof value !== "object") return false;
  const obj = value as Record<string, unknown>;
  if (obj[SIG_KEY] === SECRET_SIG) return true;
  return Object.values(obj).some(secretPaths);
}

async function resolve(value: unknown): Promise<{ value: unknown; secret: boolean }> {
  if (pulumi.Output.isInstance(value)) {
    const out = value as pulumi.Output<unknown>;
    // promise(true) resolves unknown values too, so an unknown output cannot hang a test.
    const [inner, secret] = await Promise.all([
      (out as any).promise(true) as Promise<unknown>,
      (out as any).isSecret as Promise<boolean>,
    ]);
    const nested = await resolve(inner);
    return { value: nested.value, secret: secret || nested.secret };
  }
  if (Array.isArray(value)) {
    const items = await Promise.all(value.map(resolve));
    return { value: items.map((i) => i.value), secret: items.some((i) => i.secret) };
  }
  if (value !== null && typeof value === "object") {
    const entries = await Promise.all(Object.entries(value).map(async ([k, v]) => [k, await resolve(v)] as const));
    return { value: Object.fromEntries(entries.map(([k, r]) => [k, r.value])), secret: entries.some(([, r]) => r.secret) };
  }
  return { value, secret: false };
}

/** Runs index.ts for `stack` with `config`; a thrown error is returned with whatever was registered. */
export async function runProgram(stack: string, config: Record<string, unknown>, world: MockWorld = {}): Promise<RunResult> {
  const resources: Registered[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => ({ id: `${args.name}-id`, state: mockState(args.type, args.name, args.inputs, world) }),
      call: (args) => {
        switch (args.token) {
          case "oci:Identity/getAvailabilityDomains:getAvailabilityDomains":
            return { availabilityDomains: (world.availabilityDomains ?? regionAds(config)).map((name) => ({ name })) };
          case "oci:Core/getImages:getImages":
            return { images: world.images ?? UBUNTU_IMAGES };
          case "oci:Identity/getCompartment:getCompartment": {
            const known = world.compartments
              ? world.compartments[args.inputs.id]
              : { name: MOCK_COMPARTMENT_NAME, compartmentId: MOCK_TENANCY };
            if (!known) throw new Error(`GetCompartment: no compartment ${args.inputs.id}`);
            return { id: args.inputs.id, ...known };
          }
          default:
            throw new Error(`unexpected call ${args.token}`);
        }
      },
    },
    world.project ?? PROJECT,
    stack,
    false, // an update, not a preview: an output the mock leaves unset is undefined, not unknown
    "organization", // what a self-managed backend calls every organization
  );
  recordRegistrations(resources);
  setStackConfig(config, world);
  const logs: LogLine[] = [];
  const restoreLog = keepLog(logs, world.log === "print" || process.env[PRINT_LOGS_ENV] === "1");
  reportPlaceholdersOffline(world.placeholders !== "refuse");

  // A program either exports a function (this project) or registers resources as it loads.
  const modulePath = require.resolve(world.program ?? path.join(ROOT, "index.ts"));
  delete require.cache[modulePath];
  const loaded = require(modulePath) as Record<string, unknown> | (() => Promise<Record<string, unknown>>);
  const program = typeof loaded === "function" ? loaded : async () => loaded;
  // An error thrown inside an apply reaches Pulumi as an unhandled rejection, which the real
  // CLI reports as the failure of the update; here it fails the run the same way.
  let onUnhandled: (reason: unknown) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => {
    onUnhandled = (reason) => reject(reason instanceof Error ? reason : new Error(String(reason)));
  });
  process.on("unhandledRejection", onUnhandled);
  try {
    const outputs: Record<string, unknown> = {};
    const secretOutputs: string[] = [];
    await Promise.race([
      failed,
      (async () => {
        const exported = await program();
        for (const [k, v] of Object.entries(exported)) {
          const r = await resolve(v);
          outputs[k] = r.value;
          if (r.secret) secretOutputs.push(k);
        }
        await settle(resources);
      })(),
    ]);
    return { resources, outputs, secretOutputs, logs };
  } catch (error) {
    await settle(resources);
    return { resources, outputs: {}, secretOutputs: [], logs, error: error as Error };
  } finally {
    process.off("unhandledRejection", onUnhandled);
    restoreLog();
    reportPlaceholdersOffline(false);
  }
}

/** Records every registration and read (StackReferences) as the monitor answers it. */
function recordRegistrations(resources: Registered[]): void {
  const monitor = (pulumi.runtime as any).getMonitor();
  const record = (req: any, response: any, read: boolean) => {
    const struct = read ? req.getProperties() : req.getObject();
    const object = struct?.toJavaScript() ?? {};
    resources.push({
      type: req.getType(),
      name: req.getName(),
      urn: response.getUrn(),
      inputs: unwrapSecrets(pulumi.runtime.deserializeProperties(struct)) as Record<string, any>,
      parent: req.getParent(),
      dependencies: req.getDependenciesList(),
      secretInputs: Object.keys(object).filter((k) => secretPaths(object[k])),
      ignoreChanges: read ? [] : req.getIgnorechangesList(),
      additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
      provider: req.getProvider(),
      ...(read ? { read: true } : { deleteBeforeReplace: req.getDeletebeforereplace() }),
    });
  };
  for (const [method, read] of [
    ["registerResource", false],
    ["readResource", true],
  ] as const) {
    const original = monitor[method].bind(monitor);
    monitor[method] = (req: any, callback: any) =>
      original(req, (err: any, response: any) => {
        if (!err) record(req, response, read);
        callback(err, response);
      });
  }
}

/** The stack's config as the CLI passes it: keys the program declares secret are listed secret, as `--secret` values are. */
function setStackConfig(config: Record<string, unknown>, world: MockWorld): void {
  const pulumiConfig = toPulumiConfig(config, world.project ?? PROJECT);
  const secretKeys = Object.keys(pulumiConfig).filter((k) => {
    const key = k.slice(`${PROJECT}:`.length);
    const spec = (CONFIG_KEYS as Record<string, { secret?: boolean }>)[key];
    return k.startsWith(`${PROJECT}:`) && spec?.secret === true && !(world.plainSecrets ?? []).includes(key);
  });
  pulumi.runtime.setAllConfig(pulumiConfig, secretKeys);
}

/** Runs the program and fails the test on any error. */
export async function runOk(stack: string, config: Record<string, unknown>, world: MockWorld = {}): Promise<RunResult> {
  const r = await runProgram(stack, config, world);
  if (r.error) throw r.error;
  return r;
}

/** Lets registrations that were started finish: waits until the count holds still for a few turns. */
async function settle(resources: readonly Registered[]): Promise<void> {
  let stable = 0;
  let last = -1;
  for (let i = 0; i < 200 && stable < 3; i++) {
    await new Promise((r) => setTimeout(r, 2));
    stable = resources.length === last ? stable + 1 : 0;
    last = resources.length;
  }
}

export const ofType = (r: RunResult, type: string) => r.resources.filter((x) => x.type === type);
export const named = (r: RunResult, type: string, name: string) => {
  const found = r.resources.find((x) => x.type === type && x.name === name);
  if (!found) throw new Error(`no ${type} named ${name}; have ${r.resources.map((x) => `${x.type}::${x.name}`).join(", ")}`);
  return found;
};

/** A minimal valid config (the "dozen lines" of a new user) to derive fixtures from. */
export const MINIMAL_CONFIG: Record<string, unknown> = {
  "oci:region": "eu-frankfurt-1",
  compartmentId: "ocid1.compartment.oc1..aaaaaaaaminimalfixture",
  adminCidrs: ["203.0.113.10/32"],
  alertEmail: "ops@example.com",
};
