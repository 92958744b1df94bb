global using NeuralTangents.Tensors;
global using NeuralTangents.Tensors.Kernels;
global using NeuralTangents.Tensors.Ops;
