/** The instance shapes the program knows: the two that Oracle's free tier includes. */

export type Arch = "arm64" | "amd64";

export interface FlexShape {
  readonly kind: "flex";
  /** Kubernetes architecture of the shape's processors. */
  readonly arch: Arch;
  /** Inclusive OCPU range one instance may have. */
  readonly ocpus: { readonly min: number; readonly max: number };
  /** Inclusive memory range per OCPU, in GB. */
  readonly memoryPerOcpuGb: { readonly min: number; readonly max: number };
  /** Largest memory one instance may have, in GB. */
  readonly maxMemoryGb: number;
}

export interface FixedShape {
  readonly kind: "fixed";
  readonly arch: Arch;
  /** OCPUs of the shape (a fraction for burstable micro shapes). */
  readonly ocpus: number;
  readonly memoryGb: number;
}

export type Shape = FlexShape | FixedShape;

export const A1_FLEX = "VM.Standard.A1.Flex";
export const E2_MICRO = "VM.Standard.E2.1.Micro";

export const SHAPES: Readonly<Record<string, Shape>> = {
  [A1_FLEX]: {
    kind: "flex",
    arch: "arm64",
    ocpus: { min: 1, max: 80 },
    memoryPerOcpuGb: { min: 1, max: 64 },
    maxMemoryGb: 512,
  },
  [E2_MICRO]: { kind: "fixed", arch: "amd64", ocpus: 0.125, memoryGb: 1 },
};

export const SHAPE_NAMES = Object.keys(SHAPES) as [string, ...string[]];

/** Default memory for a flex node when the stack gives only OCPUs: Oracle's free ratio of 6 GB per OCPU. */
export const DEFAULT_MEMORY_PER_OCPU_GB = 6;

/** Smallest boot volume Oracle accepts, in GB. */
export const MIN_BOOT_VOLUME_GB = 50;
/** Smallest and largest block volume Oracle accepts, in GB. */
export const BLOCK_VOLUME_GB = { min: 50, max: 32768 } as const;
