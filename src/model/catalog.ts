/**
 * What the reference models are: the data split and each version's architecture and training
 * recipe. The training script reads these; models/models.json records them with the results.
 */
import type { TrainOptions } from './training.js';
import type { ModelVersion } from './types.js';

export const MODEL_NAME = 'digits';
export const MODEL_VERSIONS: readonly ModelVersion[] = ['v1', 'v2'];

export const SPLIT_SEED = 42;
export const TEST_FRACTION = 0.3;

export interface ModelRecipe {
  description: string;
  architecture: string;
  training: TrainOptions;
}

export const RECIPES: Record<ModelVersion, ModelRecipe> = {
  v1: {
    description: 'accurate: MLP with one 64-unit hidden layer, trained to convergence',
    architecture: 'input×1/16 → Gemm 64→64 → ReLU → Gemm 64→10 → Softmax',
    training: {
      hidden: [64],
      epochs: 60,
      batchSize: 32,
      learningRate: 0.005,
      optimizer: 'adam',
      weightDecay: 1e-4,
      cosineDecay: true,
      seed: 42,
    },
  },
  v2: {
    description:
      'candidate: smaller and faster, a few points less accurate — multinomial logistic regression, trained briefly (5 epochs)',
    architecture: 'input×1/16 → Gemm 64→10 → Softmax',
    training: {
      hidden: [],
      epochs: 5,
      batchSize: 32,
      learningRate: 0.01,
      optimizer: 'adam',
      weightDecay: 0,
      cosineDecay: true,
      seed: 42,
    },
  },
};
